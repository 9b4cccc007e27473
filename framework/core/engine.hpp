// The process-wide oneDNN CPU engine and stream, plus what oneDNN reports about itself.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

namespace cadenza {

// One CPU engine and one in-order stream for the whole process (created on first use).
dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// "2.6.3" as reported by the linked library, not the headers.
std::string onednn_version();
// The instruction set oneDNN dispatches to on this machine, e.g. "avx512_core_bf16".
std::string onednn_isa();

}  // namespace cadenza
