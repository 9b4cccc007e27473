// results/published/: every number the project compares against is there with its citation and an
// honest verified flag (verified only where the number was read in the source: the entries'
// "verification" says where); the loader rejects malformed files naming the file and the field;
// lookups name the valid ids.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/error.hpp"
#include "experiments/published.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

fs::path published_dir() {
  return testing::source_dir() / "results" / "published";
}

// Row by row: (id, dataset, test nll, verified), pinned so that an edit of results/published/
// shows here. Bai 2018 from its Table 1; Zakovskis 2021 from the results table of the authors'
// repository; Boulanger 2012 from Table 1 of the ICML paper (negated log-likelihoods) and Chung
// 2014 from Table 2 of arXiv:1412.3555v1 (test rows), read on 2026-12-01 (each entry's
// "verification" names the copy read).
const std::vector<std::tuple<std::string, std::string, double, bool>> kDesignTable = {
    {"bai2018/lstm", "JSB_Chorales", 8.45, true},
    {"bai2018/lstm", "Nottingham", 3.29, true},
    {"bai2018/gru", "JSB_Chorales", 8.43, true},
    {"bai2018/gru", "Nottingham", 3.46, true},
    {"bai2018/rnn", "JSB_Chorales", 8.91, true},
    {"bai2018/rnn", "Nottingham", 4.05, true},
    {"bai2018/tcn", "JSB_Chorales", 8.10, true},
    {"bai2018/tcn", "Nottingham", 3.07, true},
    {"boulanger2012/rnn", "JSB_Chorales", 8.71, true},
    {"boulanger2012/rnn", "Nottingham", 4.46, true},
    {"boulanger2012/rnn", "MuseData", 8.13, true},
    {"boulanger2012/rnn", "Piano_midi", 8.37, true},
    {"boulanger2012/rnn_hf", "JSB_Chorales", 8.58, true},
    {"boulanger2012/rnn_hf", "Nottingham", 3.89, true},
    {"boulanger2012/rnn_hf", "MuseData", 7.19, true},
    {"boulanger2012/rnn_hf", "Piano_midi", 7.66, true},
    {"boulanger2012/rnn_rbm", "JSB_Chorales", 6.27, true},
    {"boulanger2012/rnn_rbm", "Nottingham", 2.39, true},
    {"boulanger2012/rnn_rbm", "MuseData", 6.01, true},
    {"boulanger2012/rnn_rbm", "Piano_midi", 7.09, true},
    {"boulanger2012/rnn_nade", "JSB_Chorales", 5.83, true},
    {"boulanger2012/rnn_nade", "Nottingham", 2.91, true},
    {"boulanger2012/rnn_nade", "MuseData", 6.74, true},
    {"boulanger2012/rnn_nade", "Piano_midi", 7.48, true},
    {"boulanger2012/rnn_nade_hf", "JSB_Chorales", 5.56, true},
    {"boulanger2012/rnn_nade_hf", "Nottingham", 2.31, true},
    {"boulanger2012/rnn_nade_hf", "MuseData", 5.60, true},
    {"boulanger2012/rnn_nade_hf", "Piano_midi", 7.05, true},
    {"chung2014/lstm", "JSB_Chorales", 8.67, true},
    {"chung2014/lstm", "Nottingham", 3.20, true},
    {"chung2014/lstm", "MuseData", 6.23, true},
    {"chung2014/lstm", "Piano_midi", 9.03, true},
    {"chung2014/gru", "JSB_Chorales", 8.54, true},
    {"chung2014/gru", "Nottingham", 3.23, true},
    {"chung2014/gru", "MuseData", 5.99, true},
    {"chung2014/gru", "Piano_midi", 8.82, true},
    {"chung2014/tanh", "JSB_Chorales", 9.10, true},
    {"chung2014/tanh", "Nottingham", 3.13, true},
    {"chung2014/tanh", "MuseData", 6.23, true},
    {"chung2014/tanh", "Piano_midi", 9.03, true},
    {"zakovskis2021/lstm", "JSB_Chorales", 8.33, true},
    {"zakovskis2021/lstm", "Nottingham", 3.25, true},
    {"zakovskis2021/lstm", "MuseData", 7.24, true},
    {"zakovskis2021/lstm", "Piano_midi", 7.54, true},
    {"zakovskis2021/gru", "JSB_Chorales", 8.20, true},
    {"zakovskis2021/gru", "Nottingham", 3.22, true},
    {"zakovskis2021/gru", "MuseData", 7.31, true},
    {"zakovskis2021/gru", "Piano_midi", 7.58, true},
    {"zakovskis2021/rru", "JSB_Chorales", 7.72, true},
    {"zakovskis2021/rru", "Nottingham", 2.92, true},
    {"zakovskis2021/rru", "MuseData", 7.03, true},
    {"zakovskis2021/rru", "Piano_midi", 7.38, true},
};

TEST(Published, EveryDesignNumberIsPresentWithCitation) {
  const std::vector<PublishedNumber> numbers = load_published(published_dir());
  EXPECT_EQ(numbers.size(), kDesignTable.size()) << "an entry is not in the table above";
  for (const auto& [id, dataset, value, verified] : kDesignTable) {
    const PublishedNumber& number = find_published(numbers, id, dataset);
    EXPECT_DOUBLE_EQ(number.value, value) << id << " " << dataset;
    EXPECT_EQ(number.verified, verified) << id << " " << dataset;
    EXPECT_EQ(number.metric, "test_nll");
    EXPECT_FALSE(number.table.empty());
    EXPECT_FALSE(number.protocol.empty());
    EXPECT_FALSE(number.model.empty());
  }
  // Full citations: authors, title, venue and year.
  EXPECT_NE(find_published(numbers, "bai2018/lstm", "JSB_Chorales")
                .citation.find("Bai, J. Zico Kolter, Vladlen Koltun. An Empirical Evaluation"),
            std::string::npos);
  EXPECT_NE(find_published(numbers, "boulanger2012/rnn", "MuseData").citation.find("ICML"),
            std::string::npos);
  EXPECT_NE(find_published(numbers, "chung2014/lstm", "Nottingham").citation.find("1412.3555"),
            std::string::npos);
  EXPECT_NE(find_published(numbers, "zakovskis2021/lstm", "Piano_midi").citation.find("2021"),
            std::string::npos);
  EXPECT_THROW(find_published(numbers, "bai2018/lstm", "Piano_midi"), ConfigError)
      << "Bai et al. 2018 ran JSB and Nottingham only";
}

TEST(Published, LookupErrorsNameTheValidChoices) {
  const std::vector<PublishedNumber> numbers = load_published(published_dir());
  try {
    find_published(numbers, "bai2018/mogrifier", "JSB_Chorales");
    FAIL();
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'bai2018/mogrifier'"), std::string::npos) << message;
    for (const char* id : {"bai2018/lstm", "bai2018/gru", "bai2018/tcn", "boulanger2012/rnn",
                           "chung2014/lstm", "zakovskis2021/lstm", "zakovskis2021/rru"}) {
      EXPECT_NE(message.find(id), std::string::npos) << message;
    }
  }
  try {
    find_published(numbers, "bai2018/tcn", "MuseData");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("it has: JSB_Chorales, Nottingham"), std::string::npos)
        << e.what();
  }
}

nlohmann::json valid_entry() {
  return {{"id", "paper2020/lstm"},
          {"citation", "A. Author. Title. Venue, 2020."},
          {"table", "Table 1"},
          {"model", "LSTM"},
          {"dataset", "JSB_Chorales"},
          {"metric", "test_nll"},
          {"value", 8.0},
          {"protocol", "as ours"},
          {"verified", false},
          {"verification", "recalled"}};
}

// Writes paper2020.json holding `entries` and expects load_published to fail naming the file and
// `expected` in the message.
void expect_rejected(const std::vector<nlohmann::json>& entries, const std::string& expected) {
  ScratchDir dir;
  const fs::path file = dir / "paper2020.json";
  nlohmann::json root = {{"format", "cadenza-published"}, {"format_version", 1}};
  root["entries"] = entries;
  std::ofstream(file) << root;
  try {
    load_published(dir.path());
    FAIL() << "accepted: " << root.dump();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

TEST(Published, MalformedEntriesAreRejectedNamingFileAndField) {
  {
    ScratchDir dir;
    nlohmann::json root = {{"format", "cadenza-published"}, {"format_version", 1}};
    root["entries"] = std::vector<nlohmann::json>{valid_entry()};
    std::ofstream(dir / "paper2020.json") << root;
    const auto numbers = load_published(dir.path());
    ASSERT_EQ(numbers.size(), 1u);
    EXPECT_EQ(numbers[0].id, "paper2020/lstm");
    EXPECT_DOUBLE_EQ(numbers[0].value, 8.0);
  }
  auto missing = valid_entry();
  missing.erase("citation");
  expect_rejected({missing}, "missing 'citation'");
  auto unknown = valid_entry();
  unknown["year"] = 2020;
  expect_rejected({unknown}, "unknown key 'year'");
  auto not_number = valid_entry();
  not_number["value"] = "8.0";
  expect_rejected({not_number}, "'value' must be a finite number");
  auto bad_dataset = valid_entry();
  bad_dataset["dataset"] = "JSB";
  expect_rejected({bad_dataset}, "valid: JSB_Chorales, Nottingham, MuseData, Piano_midi");
  auto bad_flag = valid_entry();
  bad_flag["verified"] = "yes";
  expect_rejected({bad_flag}, "'verified' must be true or false");
  auto wrong_id = valid_entry();
  wrong_id["id"] = "other2020/lstm";
  expect_rejected({wrong_id}, "must be 'paper2020/<model>'");
  auto bad_metric = valid_entry();
  bad_metric["metric"] = "nll";
  expect_rejected({bad_metric}, "valid: test_nll");
  expect_rejected({valid_entry(), valid_entry()}, "repeats");
  expect_rejected({}, "'entries' must be a non-empty array");
}

TEST(Published, MissingFolderAndBadFilesAreInputErrors) {
  ScratchDir dir;
  EXPECT_THROW(load_published(dir / "nowhere"), InputError);
  EXPECT_THROW(load_published(dir.path()), InputError);  // no *.json
  std::ofstream(dir / "broken.json") << "{not json";
  try {
    load_published(dir.path());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: invalid JSON"), std::string::npos);
  }
  std::ofstream(dir / "broken.json") << R"({"format": "cadenza-published", "format_version": 2,
                                            "entries": []})";
  EXPECT_THROW(load_published(dir.path()), InputError);
}

}  // namespace
}  // namespace cadenza
