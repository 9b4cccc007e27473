// Token models end to end through the real binary, on the melodies of 120 Nottingham tunes:
// the lm learns more than the events' frequencies, `cadenza eval`, `cadenza compare` and PyTorch
// (the checkpoint read with h5py into torch.nn.LSTM + Linear, scored by torch.nn.CrossEntropyLoss)
// give the logged test nll, and every variant (lm, seq2seq, attention of both styles, scheduled
// sampling of tokens) paused after an epoch and resumed equals an uninterrupted run bit for bit,
// and a batch computed in shares (what MPI ranks do) carries the categorical metric sums.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/dataset.hpp"
#include "nn/precision.hpp"
#include "support/process.hpp"
#include "sweeps/sweep_test_support.hpp"
#include "train/train_run_support.hpp"

namespace cadenza {
namespace {

using testing::metrics_without_timings;
using testing::run_cadenza;
using testing::ScratchDir;

namespace fs = std::filesystem;

using testing::last_json_line;
using testing::quoted;

fs::path train(const fs::path& config, const fs::path& runs, const std::string& extra = "") {
  const auto result =
      run_cadenza("train " + quoted(config) + " --runs-dir " + quoted(runs) + " " + extra);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return last_json_line(result.out)["run_dir"].get<std::string>();
}

// The nll per event on the test split's steps 2..T of predicting each event from its frequency in
// the training split: the floor a model must beat to have learnt anything but the marginals.
double frequency_nll(const fs::path& dataset_path) {
  const TokenDataset dataset = read_token_dataset(dataset_path);
  const int classes = melody_vocabulary(dataset.info).size();
  std::vector<double> counts(static_cast<size_t>(classes), 1.0);  // add-one smoothing
  for (const int16_t event : dataset.splits[0].events)
    counts[static_cast<size_t>(event)] += 1.0;
  double total = 0.0;
  for (const double count : counts)
    total += count;
  double nll = 0.0;
  int64_t scored = 0;
  const SplitTokens& test = dataset.splits[2];
  for (int64_t s = 0; s < test.sequences(); ++s) {
    const auto events = test.sequence(s);
    for (size_t t = 1; t < events.size(); ++t, ++scored)
      nll -= std::log(counts[static_cast<size_t>(events[t])] / total);
  }
  return nll / static_cast<double>(scored);
}

TEST(TokenTraining, TheLmLearnsBeyondEventFrequenciesAndEvalAndPyTorchAgree) {
  ScratchDir dir;
  const fs::path run_dir = train(testing::melody_experiment(dir, "melody_lm", ""), dir / "runs");
  const auto rows = metrics_without_timings(run_dir);
  ASSERT_EQ(rows.size(), 3u * 2 + 1);
  const nlohmann::json& test = rows.back();
  ASSERT_EQ(test["split"], "test");
  for (const char* key : {"nll", "perplexity", "acc", "event_accuracy", "no_event_accuracy"})
    ASSERT_TRUE(test.contains(key)) << key << " missing from " << test.dump();
  EXPECT_FALSE(test.contains("f1")) << "a piano-roll metric in a token run";
  const double nll = test["nll"].get<double>();
  EXPECT_NEAR(test["perplexity"].get<double>(), std::exp(nll), 1e-9);
  const double floor = frequency_nll(dir / "melody.h5");
  EXPECT_LT(nll, floor - 0.2) << "the event frequencies alone give " << floor;

  const auto eval = run_cadenza("eval " + quoted(run_dir) + " --split test");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const auto evaluated = nlohmann::json::parse(eval.out);
  for (const char* key : {"nll", "perplexity", "acc", "event_accuracy", "no_event_accuracy"})
    EXPECT_EQ(evaluated[key], test[key]) << key;
  EXPECT_NE(eval.err.find("perplexity"), std::string::npos) << eval.err;

  const auto torch = testing::run_shell(
      "/usr/bin/python3 " +
      quoted(testing::source_dir() / "tests" / "python" / "torch_checkpoint_nll.py") + " " +
      quoted(run_dir / "checkpoints" / "best.h5") + " " + quoted(dir / "melody.h5") + " test");
  ASSERT_EQ(torch.exit_code, 0) << torch.err;
  const auto torch_result = nlohmann::json::parse(torch.out);
  EXPECT_EQ(torch_result["frames"], test["frames"]);
  EXPECT_NEAR(torch_result["nll"].get<double>(), nll, 1e-4);

  // compare tabulates a token comparison's own metrics by default and states its protocol.
  const auto compared = run_cadenza("compare " + quoted(run_dir) + " --out " + quoted(dir / "cmp"));
  ASSERT_EQ(compared.exit_code, 0) << compared.err;
  const std::string report = testing::slurp(dir / "cmp" / "report.md");
  for (const char* text : {"melody.h5 nll |", "melody.h5 perplexity |", "event_accuracy",
                           "no_event_accuracy", "Melody token runs (docs/melody.md) are scored"})
    EXPECT_NE(report.find(text), std::string::npos) << text;
}

// An lm with an event embedding (model.embedding_size): its checkpoint's "embedding/W" read into
// torch.nn.Embedding in front of torch.nn.LSTM gives the logged test nll.
TEST(TokenTraining, TheEmbeddingIsTorchsEmbeddingOfTheEvents) {
  ScratchDir dir;
  const fs::path run_dir = train(
      testing::melody_experiment(dir, "melody_lm_embedding",
                                 R"(, "model": {"embedding_size": 12}, "train": {"epochs": 1})"),
      dir / "runs");
  const nlohmann::json test = metrics_without_timings(run_dir).back();
  ASSERT_EQ(test["split"], "test");
  const auto torch = testing::run_shell(
      "/usr/bin/python3 " +
      quoted(testing::source_dir() / "tests" / "python" / "torch_checkpoint_nll.py") + " " +
      quoted(run_dir / "checkpoints" / "best.h5") + " " + quoted(dir / "melody.h5") + " test");
  ASSERT_EQ(torch.exit_code, 0) << torch.err;
  const auto torch_result = nlohmann::json::parse(torch.out);
  EXPECT_EQ(torch_result["frames"], test["frames"]);
  EXPECT_NEAR(torch_result["nll"].get<double>(), test["nll"].get<double>(), 1e-4);
}

// A rung's pause (--pause-after-epoch) and the resume that continues the run, for each kind of
// token model (bf16 too, where the CPU has it): the metrics rows and the weights equal those of
// an uninterrupted run.
TEST(TokenTraining, EveryVariantPausedAndResumedEqualsAnUninterruptedRun) {
  ScratchDir dir;
  std::vector<std::pair<std::string, std::string>> variants = {
      {"lm_gru", R"(, "model": {"cell": "gru"})"},
      {"seq2seq", R"(, "model": {"type": "seq2seq"}, "data": {"framing": "segments"})"},
      {"luong_general_sampled",
       R"(, "model": {"type": "seq2seq", "attention": "general", "scheduled_sampling": )"
       R"({"probability": 0.3}}, "data": {"framing": "segments"})"},
      {"bahdanau_additive",
       R"(, "model": {"type": "seq2seq", "attention": "additive", "attention_style": )"
       R"("bahdanau"}, "data": {"framing": "segments"})"},
      {"lm_lookback_sampled",
       R"(, "model": {"lookback_bar_steps": 16, "scheduled_sampling": {"probability": 0.3}})"},
      {"luong_general_embedding",
       R"(, "model": {"type": "seq2seq", "attention": "general", "embedding_size": 16}, )"
       R"("data": {"framing": "segments"})"},
  };
  if (bf16_supported()) variants.emplace_back("lm_bf16", R"(, "model": {"precision": "bf16"})");
  for (const auto& [name, extra] : variants) {
    const fs::path config =
        testing::melody_experiment(dir, name, extra + R"(, "train": {"epochs": 2})");
    const fs::path uninterrupted = train(config, dir / "uninterrupted");
    const auto paused = run_cadenza("train " + quoted(config) + " --runs-dir " +
                                    quoted(dir / "paused") + " --pause-after-epoch 1");
    ASSERT_EQ(paused.exit_code, 0) << name << ": " << paused.err;
    const nlohmann::json pause = last_json_line(paused.out);
    EXPECT_EQ(pause["status"], "paused") << name << ": " << paused.out;
    const fs::path run_dir = pause["run_dir"].get<std::string>();
    const auto resumed = run_cadenza("train --resume " + quoted(run_dir));
    ASSERT_EQ(resumed.exit_code, 0) << name << ": " << resumed.err;
    EXPECT_EQ(metrics_without_timings(run_dir), metrics_without_timings(uninterrupted)) << name;
    testing::expect_same_weights(run_dir, uninterrupted);
    EXPECT_TRUE(metrics_without_timings(run_dir).back().contains("event_accuracy")) << name;
  }
}

// --batch-shares 2 computes each batch in two halves and sums them in share order, as two MPI
// ranks do: the train rows count the same events and, up to the rounding of the reordered sums
// (which the updates then carry on; after 3 epochs the test nll differs by about 0.01), give the
// same metrics as one share.
TEST(TokenTraining, BatchSharesCarryTheCategoricalMetricSums) {
  ScratchDir dir;
  const fs::path config = testing::melody_experiment(dir, "shared", "");
  const auto rows_of = [](const fs::path& run_dir, const std::string& split) {
    std::vector<nlohmann::json> rows;
    for (const auto& row : metrics_without_timings(run_dir)) {
      if (row["split"] == split) rows.push_back(row);
    }
    return rows;
  };
  const fs::path one = train(config, dir / "one");
  const fs::path two = train(config, dir / "two", "--batch-shares 2");
  const auto train_one = rows_of(one, "train"), train_two = rows_of(two, "train");
  ASSERT_EQ(train_one.size(), 3u);
  ASSERT_EQ(train_two.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(train_two[e]["frames"], train_one[e]["frames"]) << "epoch " << e + 1;
    for (const char* key : {"nll", "acc", "event_accuracy", "no_event_accuracy"}) {
      EXPECT_NEAR(train_two[e][key].get<double>(), train_one[e][key].get<double>(), 5e-3)
          << key << " of epoch " << e + 1;
    }
  }
  EXPECT_TRUE(rows_of(two, "test")[0].contains("event_accuracy"));
}

}  // namespace
}  // namespace cadenza
