// The process-wide oneDNN CPU engine and stream, plus what oneDNN reports about itself.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

namespace cadenza {

// One CPU engine and one in-order stream for the whole process (created on first use).
dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// Scratchpads. oneDNN 2.6 allocates a primitive's library-owned scratchpad at every execution
// and frees it afterwards (its global scratchpad lives only while a primitive runs). Every
// primitive here is therefore created with user_scratchpad_attr() and executed through
// execute_and_wait(), which lends it one grow-only buffer per thread instead.
dnnl::primitive_attr user_scratchpad_attr(dnnl::primitive_attr attr = dnnl::primitive_attr());

// A DNNL_ARG_SCRATCHPAD argument for `primitive` with no buffer yet (execute_and_wait() binds
// it), or an empty memory when the primitive needs no scratchpad.
dnnl::memory scratchpad_arg(const dnnl::primitive& primitive);

// Runs `primitive` on cpu_stream() and waits. A DNNL_ARG_SCRATCHPAD entry in `args` (from
// scratchpad_arg) is first bound to the calling thread's buffer, grown to fit.
void execute_and_wait(const dnnl::primitive& primitive,
                      std::unordered_map<int, dnnl::memory>& args);

// "2.6.3" as reported by the linked library, not the headers.
std::string onednn_version();
// The instruction set oneDNN dispatches to on this machine, e.g. "avx512_core_bf16".
std::string onednn_isa();

}  // namespace cadenza
