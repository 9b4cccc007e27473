// Config resolution: extends, overrides, schema validation with precise errors, canonical hash.
#include <gtest/gtest.h>

#include "config/resolve.hpp"
#include "core/sha256.hpp"
#include "support/process.hpp"

namespace cadenza::config {
namespace {

using cadenza::testing::ScratchDir;

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Expects resolve_experiment to throw a ConfigError whose message contains every fragment.
void expect_config_error(const std::filesystem::path& file,
                         const std::vector<std::string>& overrides,
                         const std::vector<std::string>& fragments) {
  try {
    resolve_experiment(file, overrides);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "message '" << e.what() << "' lacks '" << fragment << "'";
    }
  }
}

TEST(Config, DefaultsFillEveryKeyAndNameDefaultsToFileStem) {
  ScratchDir dir;
  write(dir / "my_exp.json", "{}");
  const auto resolved = resolve_experiment(dir / "my_exp.json", {});
  EXPECT_EQ(resolved.config.name, "my_exp");
  EXPECT_EQ(resolved.config.model.hidden_size, 128);
  EXPECT_EQ(resolved.canonical["model"]["dropout"]["hidden"], 0.0);
  for (const auto& key : schema_keys()) {
    std::string slash_path = "/" + key.path;
    std::replace(slash_path.begin(), slash_path.end(), '.', '/');
    EXPECT_TRUE(resolved.canonical.contains(Json::json_pointer(slash_path))) << key.path;
  }
}

TEST(Config, ExtendsMergesInOrderWithOwnKeysLast) {
  ScratchDir dir;
  write(dir / "fragments/a.json", R"({"model": {"hidden_size": 64, "layers": 2}, "seed": 5})");
  write(dir / "fragments/b.json", R"({"extends": "a.json", "model": {"hidden_size": 96}})");
  write(dir / "exp/e.json", R"({"extends": ["../fragments/b.json"], "seed": 9})");
  const auto config = resolve_experiment(dir / "exp/e.json", {}).config;
  EXPECT_EQ(config.model.hidden_size, 96);
  EXPECT_EQ(config.model.layers, 2);
  EXPECT_EQ(config.seed, 9);
}

TEST(Config, ExtendsCycleAndMissingFragmentAreErrors) {
  ScratchDir dir;
  write(dir / "a.json", R"({"extends": "b.json"})");
  write(dir / "b.json", R"({"extends": "a.json"})");
  expect_config_error(dir / "a.json", {}, {"cycle"});
  write(dir / "c.json", R"({"extends": "missing.json"})");
  expect_config_error(dir / "c.json", {}, {"missing.json", "does not exist"});
  write(dir / "d.json", R"({"extends": 3})");
  expect_config_error(dir / "d.json", {}, {"extends", "file path"});
}

TEST(Config, UnknownKeysNameFullPathOriginAndSuggestion) {
  ScratchDir dir;
  write(dir / "base.json", R"({"model": {"hiden_size": 10}})");
  write(dir / "e.json", R"({"extends": "base.json"})");
  expect_config_error(
      dir / "e.json", {},
      {"unknown key 'model.hiden_size'", "did you mean 'model.hidden_size'", "base.json"});
  write(dir / "f.json", R"({"modle": {"layers": 2}})");
  expect_config_error(dir / "f.json", {}, {"unknown key 'modle'", "did you mean 'model'"});
  write(dir / "g.json", R"({"train": {"optimizer": {"learning_rate": 0.1}}})");
  expect_config_error(dir / "g.json", {}, {"unknown key 'train.optimizer.learning_rate'"});
}

TEST(Config, WrongTypesAndRangesNameKeyAndWhatIsAllowed) {
  ScratchDir dir;
  write(dir / "e.json", "{}");
  const auto file = dir / "e.json";
  expect_config_error(file, {"model.layers=\"two\""},
                      {"'model.layers'", "an integer in [1, 8]", "\"two\"", "override"});
  expect_config_error(file, {"model.layers=9"}, {"'model.layers'", "[1, 8]", "9"});
  expect_config_error(file, {"model.layers=1.5"}, {"'model.layers'", "integer"});
  expect_config_error(file, {"train.optimizer.lr=0"}, {"'train.optimizer.lr'", "[1e-12, 10]"});
  expect_config_error(file, {"data.shuffle=1"}, {"'data.shuffle'", "true or false"});
  expect_config_error(file, {"model.type=lstm"},
                      {"'model.type'", "lm | seq2seq", "did you mean \"lm\""});
  expect_config_error(file, {"model=3"}, {"'model'", "an object"});
  write(dir / "h.json", R"({"seed": -1})");
  expect_config_error(dir / "h.json", {}, {"'seed'", ">= 0", "h.json"});
}

TEST(Config, InvalidJsonAndMissingFileAreErrors) {
  ScratchDir dir;
  write(dir / "bad.json", "{\n  \"seed\": 1,\n  oops\n}");
  expect_config_error(dir / "bad.json", {}, {"bad.json", "invalid JSON", "line 3"});
  expect_config_error(dir / "nope.json", {}, {"nope.json", "does not exist"});
  write(dir / "array.json", "[1, 2]");
  expect_config_error(dir / "array.json", {}, {"array.json", "JSON object"});
}

TEST(Config, OverridesParseJsonValuesOrStrings) {
  ScratchDir dir;
  write(dir / "e.json", R"({"model": {"type": "seq2seq", "attention": "dot"},
                            "data": {"framing": "segments"}})");
  const auto config =
      resolve_experiment(dir / "e.json", {"model.hidden_size=256", "data.shuffle=false",
                                          "model.attention=general", "train.optimizer.lr=3e-4"})
          .config;
  EXPECT_EQ(config.model.hidden_size, 256);
  EXPECT_FALSE(config.data.shuffle);
  EXPECT_EQ(config.model.attention, AttentionKind::general);
  EXPECT_DOUBLE_EQ(config.train.optimizer.lr, 3e-4);
  expect_config_error(dir / "e.json", {"model.hidden_size"}, {"key.path=value"});
  expect_config_error(dir / "e.json", {"=3"}, {"key.path=value"});
  expect_config_error(dir / "e.json", {"model..layers=2"}, {"empty component"});
  write(dir / "s.json", R"({"seed": 4})");
  expect_config_error(dir / "s.json", {"seed.value=2"}, {"'seed' is a value"});
  expect_config_error(
      dir / "e.json", {"model.hidden=2"},
      {"unknown key 'model.hidden'", "did you mean 'model.hidden_size'", "command-line override"});
}

TEST(Config, EnumKeysHoldTheValueTheirNameSpellsAndWriteTheName) {
  ScratchDir dir;
  write(dir / "e.json", R"({"model": {"type": "seq2seq", "attention": "additive",
                                      "attention_style": "bahdanau"},
                            "data": {"framing": "segments"}, "train": {"nan_guard": "rollback"}})");
  const auto resolved = resolve_experiment(dir / "e.json", {});
  EXPECT_EQ(resolved.config.model.type, ModelType::seq2seq);
  EXPECT_EQ(resolved.config.model.attention, AttentionKind::additive);
  EXPECT_EQ(resolved.config.model.attention_style, AttentionStyle::bahdanau);
  EXPECT_EQ(resolved.config.train.nan_guard, NanGuard::rollback);
  EXPECT_EQ(resolved.canonical["model"]["type"], "seq2seq");
  EXPECT_EQ(resolved.canonical["model"]["attention"], "additive");
  EXPECT_EQ(resolved.canonical["model"]["attention_style"], "bahdanau");
  EXPECT_EQ(resolved.canonical["train"]["nan_guard"], "rollback");
  EXPECT_EQ(name_of(AttentionKind::none), "none");
  expect_config_error(dir / "e.json", {"train.nan_guard=rolback"},
                      {"'train.nan_guard'", "stop | rollback", "did you mean \"rollback\""});
}

TEST(Config, CombinationsAreChecked) {
  ScratchDir dir;
  write(dir / "e.json", "{}");
  expect_config_error(dir / "e.json", {"model.attention=dot"}, {"model.attention", "seq2seq"});
  expect_config_error(dir / "e.json", {"model.type=seq2seq"}, {"data.framing", "segments"});
  expect_config_error(dir / "e.json", {"data.framing=segments"}, {"seq2seq"});
  expect_config_error(dir / "e.json", {"name=a/b"}, {"'name'", "folder name"});
  expect_config_error(dir / "e.json", {"model.encoder_cell=gru"},
                      {"model.encoder_cell", "seq2seq", "model.cell"});
}

// model.encoder_cell follows model.cell unless it names its own cell.
TEST(Config, EncoderCellIsTheDecodersUnlessSet) {
  ScratchDir dir;
  write(dir / "e.json", R"({"model": {"type": "seq2seq", "cell": "gru"},
                            "data": {"framing": "segments"}})");
  const auto same = resolve_experiment(dir / "e.json", {});
  EXPECT_EQ(same.config.model.cell, Cell::gru);
  EXPECT_EQ(same.canonical["model"]["encoder_cell"], "same");
  EXPECT_EQ(encoder_cell_of(same.config.model), Cell::gru);
  const auto own = resolve_experiment(dir / "e.json", {"model.encoder_cell=rnn_relu"});
  EXPECT_EQ(encoder_cell_of(own.config.model), Cell::rnn_relu);
  EXPECT_NE(own.run_id, same.run_id);
  expect_config_error(dir / "e.json", {"model.cell=lstm2"},
                      {"'model.cell'", "lstm | gru | rnn_tanh | rnn_relu"});
}

TEST(Config, ForgetBiasNeedsAnLstm) {
  ScratchDir dir;
  write(dir / "e.json", R"({"model": {"forget_bias": 10}})");
  EXPECT_EQ(resolve_experiment(dir / "e.json", {}).config.model.forget_bias, 10.0);
  expect_config_error(dir / "e.json", {"model.cell=gru"},
                      {"model.forget_bias = 10", "only an LSTM has a forget gate", "\"gru\""});
  write(dir / "s.json", R"({"model": {"type": "seq2seq", "cell": "gru", "encoder_cell": "lstm",
                            "forget_bias": 1}, "data": {"framing": "segments"}})");
  EXPECT_NO_THROW(resolve_experiment(dir / "s.json", {})) << "the encoder is an LSTM";
  expect_config_error(dir / "e.json", {"model.forget_bias=1e3"}, {"'model.forget_bias'"});
}

TEST(Config, HashIsCanonical) {
  ScratchDir dir;
  write(dir / "a.json", R"({"name": "x", "seed": 3, "model": {"layers": 2, "hidden_size": 64}})");
  write(dir / "b.json", R"({"model": {"hidden_size": 64, "layers": 2}, "seed": 3, "name": "x",
                            "data": {"batch_size": 8}})");
  const auto a = resolve_experiment(dir / "a.json", {});
  const auto b = resolve_experiment(dir / "b.json", {});
  EXPECT_EQ(a.hash, b.hash) << "key order and explicit defaults must not change the hash";
  EXPECT_EQ(a.hash.size(), 64u);
  EXPECT_EQ(a.run_id, a.hash.substr(0, 12));
  const auto c = resolve_experiment(dir / "a.json", {"seed=4"});
  EXPECT_NE(a.hash, c.hash);
  // Only the keys that differ from their defaults are hashed, so a key added to the schema later
  // (with a default that keeps today's behaviour) leaves today's run ids as they are.
  EXPECT_EQ(a.hash, sha256_hex(R"({"model":{"hidden_size":64,"layers":2},"name":"x","seed":3})"));
  EXPECT_EQ(a.canonical["model"]["cell"], "lstm") << "the canonical config still has every key";
  const auto described = resolve_experiment(dir / "a.json", {"description=prose"});
  EXPECT_EQ(described.canonical["description"], "prose");
  EXPECT_EQ(described.hash, a.hash) << "a description does not change what is trained";
}

TEST(Config, ExplainListsEveryKeyWithHelp) {
  const auto keys = schema_keys();
  ASSERT_GT(keys.size(), 30u);
  const std::string text = explain_schema(false);
  const std::string markdown = explain_schema(true);
  for (const auto& key : keys) {
    EXPECT_FALSE(key.help.empty()) << key.path;
    EXPECT_NE(text.find(key.path), std::string::npos) << key.path;
    EXPECT_NE(markdown.find("`" + key.path + "`"), std::string::npos) << key.path;
  }
  EXPECT_NE(markdown.find("lm \\| seq2seq"), std::string::npos);
}

TEST(Config, ShippedExperimentsResolve) {
  for (const auto& entry :
       std::filesystem::directory_iterator(cadenza::testing::source_dir() / "experiments")) {
    if (entry.path().extension() != ".json") continue;
    EXPECT_NO_THROW(resolve_experiment(entry.path(), {})) << entry.path();
  }
}

}  // namespace
}  // namespace cadenza::config

namespace cadenza::config {
namespace {

// docs/configs.md carries the table of every config key between the config-keys markers; it must
// be what `cadenza config --explain --markdown` prints.
TEST(Config, ConfigDocsKeyTableIsCurrent) {
  const std::string docs =
      cadenza::testing::slurp(cadenza::testing::source_dir() / "docs" / "configs.md");
  const std::string begin = "<!-- config-keys:begin -->\n";
  const auto start = docs.find(begin);
  const auto stop = docs.find("\n<!-- config-keys:end -->");
  ASSERT_NE(start, std::string::npos) << "docs/configs.md has no config-keys:begin marker";
  ASSERT_NE(stop, std::string::npos) << "docs/configs.md has no config-keys:end marker";
  EXPECT_EQ(docs.substr(start + begin.size(), stop - start - begin.size()) + "\n",
            explain_schema(true))
      << "docs/configs.md's key table is stale: run scripts/update_config_docs.sh";
}

}  // namespace
}  // namespace cadenza::config
