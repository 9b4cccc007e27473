#include <fmt/format.h>

#include "core/error.hpp"
#include "models/lm.hpp"
#include "models/model.hpp"
#include "models/seq2seq.hpp"

namespace cadenza {

std::unique_ptr<SequenceModel> build_model(const config::ModelConfig& config, int pitches,
                                           int context_frames, int target_frames) {
  if (config.type == "lm") return std::make_unique<LanguageModel>(config, pitches);
  if (config.type == "seq2seq") {
    return std::make_unique<Seq2SeqModel>(config, pitches, context_frames, target_frames);
  }
  throw ConfigError(fmt::format("model.type = \"{}\": valid values are lm, seq2seq", config.type));
}

}  // namespace cadenza
