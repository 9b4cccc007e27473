// models/model_size.hpp counts parameters from the config alone; the count must equal that of
// the model the config builds, for every variant (widths, bridges, bidirectional encoders,
// attention scores and styles), since the memory check and the manifest rest on it.
#include <gtest/gtest.h>

#include "models/model.hpp"
#include "models/model_size.hpp"
#include "models/model_variants.hpp"

namespace cadenza {
namespace {

using testing::ModelVariant;

class ModelSize : public ::testing::TestWithParam<ModelVariant> {};

TEST_P(ModelSize, ParameterCountFromTheConfigEqualsTheBuiltModel) {
  for (const int hidden : {5, 16}) {
    for (const int layers : {1, 3}) {
      config::ModelConfig config = testing::variant_config(GetParam(), hidden);
      config.layers = layers;
      constexpr int kPitches = 7;
      const FrameOutput output =
          GetParam().lookback_bar_steps > 0 ? FrameOutput::kCategorical : FrameOutput::kBernoulli;
      const auto model = build_model(config, kPitches, 4, 3, output);
      int64_t built = 0;
      for (const auto& named : model->parameters())
        built += named.parameter->value.numel();
      EXPECT_EQ(parameter_count(config, kPitches), built)
          << "hidden " << hidden << ", layers " << layers;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, ModelSize, ::testing::ValuesIn(testing::lstm_variants()));

// The estimate grows with what drives it and refuses nothing a small model needs.
TEST(ModelSize, MemoryEstimateGrowsWithTheModelAndTheBatch) {
  config::ExperimentConfig small;
  FrameCounts frames{128, 160, 1 << 20};
  const int64_t base = estimate_training_memory(small, 88, frames).total();
  config::ExperimentConfig wide = small;
  wide.model.hidden_size = 1024;
  config::ExperimentConfig batched = small;
  batched.data.batch_size = 256;
  EXPECT_GT(estimate_training_memory(wide, 88, frames).total(), base);
  EXPECT_GT(estimate_training_memory(batched, 88, frames).total(), base);
  EXPECT_LT(base, int64_t{1} << 30) << "a 1x128 lm must not look like it needs a GiB";
  EXPECT_EQ(checkpoint_bytes(small, 88),
            4 * parameter_count(small.model, 88) * 3 + (int64_t{1} << 20))
      << "Adam: the values and two slots";
}

INSTANTIATE_TEST_SUITE_P(Cells, ModelSize, ::testing::ValuesIn(testing::other_cell_variants()));
INSTANTIATE_TEST_SUITE_P(Embeddings, ModelSize, ::testing::ValuesIn(testing::embedding_variants()));
INSTANTIATE_TEST_SUITE_P(Lookback, ModelSize, ::testing::ValuesIn(testing::lookback_variants()));

}  // namespace
}  // namespace cadenza
