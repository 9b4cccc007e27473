// The model variants the model-level tests run over (gradients in tests/models, step-wise
// generation in tests/generate): one struct, its name in test listings, and its config.
#pragma once

#include <ostream>

#include "config/experiment_config.hpp"

namespace cadenza::testing {

struct ModelVariant {
  const char* name;
  config::ModelType type;
  config::AttentionKind attention;
  config::AttentionStyle style;
  int encoder_hidden;
  bool bidirectional;
};

// Names the variant in test listings (ctest shows the parameter).
inline void PrintTo(const ModelVariant& variant, std::ostream* out) {
  *out << variant.name;
}

// Two layers of `hidden_size` units in the variant's shape.
inline config::ModelConfig variant_config(const ModelVariant& variant, int hidden_size) {
  config::ModelConfig config;
  config.type = variant.type;
  config.attention = variant.attention;
  config.attention_style = variant.style;
  config.layers = 2;
  config.hidden_size = hidden_size;
  config.encoder_hidden_size = variant.encoder_hidden;
  config.bidirectional_encoder = variant.bidirectional;
  return config;
}

}  // namespace cadenza::testing
