// Compute precision of the LSTM and affine layers ("model.precision": "f32" | "bf16").
// bf16 converts weights and activations to bf16 for the matrix products; master weights,
// biases, cell states and every gradient stay f32 (docs/onednn.md, trap 11).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string_view>

namespace cadenza {

enum class Precision { f32, bf16 };

// Parses "f32" or "bf16"; throws ConfigError naming `key`, the value and the valid choices, or
// saying that this CPU has no bf16 support in oneDNN.
Precision parse_precision(std::string_view text, std::string_view key = "model.precision");
std::string_view to_string(Precision precision);

// True when oneDNN runs bf16 primitives on this CPU (AVX-512 core or newer).
bool bf16_supported();

// Data type of weights and activations inside the matrix products.
dnnl::memory::data_type compute_type(Precision precision);

}  // namespace cadenza
