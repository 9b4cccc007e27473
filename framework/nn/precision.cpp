#include "nn/precision.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace cadenza {

Precision parse_precision(std::string_view text, std::string_view key) {
  if (text == "f32") return Precision::f32;
  if (text == "bf16") {
    if (!bf16_supported()) {
      throw ConfigError(
          fmt::format("{} = \"bf16\": oneDNN has no bf16 kernels on this CPU (needs "
                      "AVX-512); use \"f32\"",
                      key));
    }
    return Precision::bf16;
  }
  throw ConfigError(fmt::format("{} = \"{}\": valid values are \"f32\" and \"bf16\"", key, text));
}

std::string_view to_string(Precision precision) {
  return precision == Precision::bf16 ? "bf16" : "f32";
}

bool bf16_supported() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

dnnl::memory::data_type compute_type(Precision precision) {
  return precision == Precision::bf16 ? dnnl::memory::data_type::bf16
                                      : dnnl::memory::data_type::f32;
}

}  // namespace cadenza
