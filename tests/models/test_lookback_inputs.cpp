// Magenta's lookback inputs (models/lookback_inputs.hpp) row by row against rows written out by
// hand from note_seq's LookbackEventSequenceEncoderDecoder.events_to_input: the current event,
// the events that would come next if the last one or two bars repeated, a +-1 binary counter of
// the predicted step, and the two repeat flags. Also: padding, the stream's offset in its piece,
// step-wise generation, and the configs the inputs refuse. The models' gradients and step-wise
// generation with them are checked in test_models.cpp and tests/generate.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.hpp"
#include "models/lookback_inputs.hpp"
#include "models/model.hpp"

namespace cadenza {
namespace {

constexpr int kClasses = 4;
constexpr int kBar = 2;  // lookback distances 2 and 4; counter bits bit_width(3) = 2
// Events of one stream: 1 2 1 2 1 3 (NO_EVENT is class 0).
const std::vector<int> kEvents = {1, 2, 1, 2, 1, 3};

// The stream's events as one-hot frames [T, 1, V].
Tensor frames_of(const std::vector<int>& events) {
  Tensor frames({static_cast<int64_t>(events.size()), 1, kClasses});
  for (size_t t = 0; t < events.size(); ++t)
    frames[static_cast<int64_t>(t) * kClasses + events[t]] = 1.0f;
  return frames;
}

std::vector<float> row_of(const Tensor& features, int64_t t, int64_t batch, int64_t b) {
  const int64_t width = features.dim(features.rank() - 1);
  const float* row = features.data() + (t * batch + b) * width;
  return {row, row + width};
}

// onehot(current) | onehot(1 bar back) | onehot(2 bars back) | counter bits 0, 1 | repeats.
std::vector<float> expected_row(int current, int one_bar, int two_bars, float bit0, float bit1,
                                float repeats_one, float repeats_two) {
  std::vector<float> row(3 * kClasses, 0.0f);
  row[current] = 1.0f;
  row[kClasses + one_bar] = 1.0f;
  row[2 * kClasses + two_bars] = 1.0f;
  for (const float value : {bit0, bit1, repeats_one, repeats_two})
    row.push_back(value);
  return row;
}

TEST(LookbackInputs, WidthIsMagentasLookbackRnnInputSize) {
  // basic_rnn's 38 classes and 16 steps per bar: 38 + 2 x 38 + 5 counter bits + 2 flags.
  EXPECT_EQ(lookback_width(16, 38), 121);
  EXPECT_EQ(lookback_counter_bits(16), 5);
  EXPECT_EQ(lookback_width(0, 38), 38);
  EXPECT_EQ(LookbackInputs(kBar, kClasses, FrameOutput::kCategorical).width(), 3 * 4 + 2 + 2);
}

TEST(LookbackInputs, RowsAreMagentasEventsToInput) {
  LookbackInputs lookback(kBar, kClasses, FrameOutput::kCategorical);
  Tensor features;
  const std::vector<int64_t> starts = {0};
  lookback.forward(frames_of(kEvents), starts, features);
  ASSERT_EQ(features.dims(), (std::vector<int64_t>{6, 1, 16}));
  // t = 0: nothing before the stream, so both lookbacks read NO_EVENT; n = 1 = 0b01.
  EXPECT_EQ(row_of(features, 0, 1, 0), expected_row(1, 0, 0, 1, -1, 0, 0));
  // t = 1: one bar back from the predicted step 2 is step 0 (event 1); n = 2 = 0b10.
  EXPECT_EQ(row_of(features, 1, 1, 0), expected_row(2, 1, 0, -1, 1, 0, 0));
  // t = 2: step 1 (event 2) one bar back; event 1 repeats step 0's; n = 3.
  EXPECT_EQ(row_of(features, 2, 1, 0), expected_row(1, 2, 0, 1, 1, 1, 0));
  // t = 4: steps 3 and 1 (both event 2); event 1 repeats steps 2 and 0; n = 5 = 0b101.
  EXPECT_EQ(row_of(features, 4, 1, 0), expected_row(1, 2, 2, 1, -1, 1, 1));
  // t = 5: steps 4 and 2 (event 1); event 3 repeats nothing; n = 6 = 0b110.
  EXPECT_EQ(row_of(features, 5, 1, 0), expected_row(3, 1, 1, -1, 1, 0, 0));
}

TEST(LookbackInputs, TheStreamsOffsetMovesOnlyTheCounterAndPaddingStaysZero) {
  LookbackInputs lookback(kBar, kClasses, FrameOutput::kCategorical);
  // Two streams: kEvents from step 3 of its piece, and one of 2 events then padding.
  Tensor frames({6, 2, kClasses});
  for (int64_t t = 0; t < 6; ++t)
    frames[(t * 2) * kClasses + kEvents[static_cast<size_t>(t)]] = 1.0f;
  frames[(0 * 2 + 1) * kClasses + 2] = 1.0f;
  frames[(1 * 2 + 1) * kClasses + 2] = 1.0f;
  Tensor features;
  const std::vector<int64_t> starts = {3, 0};
  lookback.forward(frames, starts, features);
  // Stream 0 at t = 4 predicts step 3 + 5 = 8 = 0b1000: both low bits 0.
  EXPECT_EQ(row_of(features, 4, 2, 0), expected_row(1, 2, 2, -1, -1, 1, 1));
  // Stream 1 at t = 1 repeats nothing a whole bar back yet (t - 2 < 0).
  EXPECT_EQ(row_of(features, 1, 2, 1), expected_row(2, 2, 0, -1, 1, 0, 0));
  for (int64_t t = 2; t < 6; ++t)
    EXPECT_EQ(row_of(features, t, 2, 1), std::vector<float>(16, 0.0f)) << "padding row " << t;
}

TEST(LookbackInputs, StepWiseRowsEqualTheWholeStreams) {
  LookbackInputs lookback(kBar, kClasses, FrameOutput::kCategorical);
  Tensor whole;
  const std::vector<int64_t> starts = {0};
  lookback.forward(frames_of(kEvents), starts, whole);
  const std::vector<int> history(kEvents.begin(), kEvents.begin() + 2);
  Tensor begun;
  lookback.begin_streams(frames_of(history), begun);
  EXPECT_EQ(row_of(begun, 1, 1, 0), row_of(whole, 1, 1, 0));
  for (size_t t = 2; t < kEvents.size(); ++t) {
    Tensor frame({1, kClasses});
    frame[kEvents[t]] = 1.0f;
    Tensor step;
    lookback.append(frame, step);
    EXPECT_EQ(row_of(step, 0, 1, 0), row_of(whole, static_cast<int64_t>(t), 1, 0)) << "step " << t;
  }
}

TEST(LookbackInputs, OffPassesTheFramesThrough) {
  LookbackInputs lookback(0, kClasses, FrameOutput::kBernoulli);
  EXPECT_FALSE(lookback.active());
  const Tensor frames = frames_of(kEvents);
  Tensor features;
  const std::vector<int64_t> starts = {0};
  EXPECT_EQ(&lookback.forward(frames, starts, features), &frames);
}

TEST(LookbackInputs, PianoRollsAndEncoderDecodersAreRefusedNamingTheKey) {
  config::ModelConfig config;
  config.lookback_bar_steps = 16;
  try {
    build_model(config, 88, 4, 4, FrameOutput::kBernoulli);
    FAIL() << "a piano-roll lm took lookback inputs";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("model.lookback_bar_steps"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("token dataset"), std::string::npos);
  }
  config.type = config::ModelType::seq2seq;
  try {
    build_model(config, 38, 4, 4, FrameOutput::kCategorical);
    FAIL() << "a seq2seq model took lookback inputs";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("model.type = \"lm\""), std::string::npos);
  }
  config.type = config::ModelType::lm;
  EXPECT_NO_THROW(build_model(config, 38, 4, 4, FrameOutput::kCategorical));
}

}  // namespace
}  // namespace cadenza
