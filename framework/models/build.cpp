#include "models/lm.hpp"
#include "models/model.hpp"
#include "models/seq2seq.hpp"

namespace cadenza {

std::unique_ptr<SequenceModel> build_model(const config::ModelConfig& config, int pitches,
                                           int context_frames, int target_frames,
                                           FrameOutput output) {
  if (config.type == config::ModelType::lm) {
    return std::make_unique<LanguageModel>(config, pitches, output);
  }
  return std::make_unique<Seq2SeqModel>(config, pitches, output, context_frames, target_frames);
}

FrameOutput frame_output(const DatasetInfo& info) {
  return info.kind == kTokensKind ? FrameOutput::kCategorical : FrameOutput::kBernoulli;
}

}  // namespace cadenza
