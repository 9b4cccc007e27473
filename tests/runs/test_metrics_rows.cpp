// runs/metrics_log.hpp read_metrics_rows: the one reader of metrics.jsonl, under both policies.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "runs/metrics_log.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::ScratchDir;

TEST(MetricsRows, AbsentFileHasNoRows) {
  ScratchDir dir;
  EXPECT_TRUE(read_metrics_rows(dir / "metrics.jsonl", BadMetricsRow::kThrow).empty());
  EXPECT_TRUE(read_metrics_rows(dir / "metrics.jsonl", BadMetricsRow::kSkip).empty());
}

TEST(MetricsRows, RowsKeepTheirLineNumbers) {
  ScratchDir dir;
  std::ofstream(dir / "metrics.jsonl") << "{\"split\": \"train\"}\n\n{\"split\": \"test\"}\n";
  const auto rows = read_metrics_rows(dir / "metrics.jsonl", BadMetricsRow::kThrow);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[0].value["split"], "train");
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[1].value["split"], "test");
}

TEST(MetricsRows, ABrokenLineThrowsOrIsSkippedAsTheCallerChooses) {
  ScratchDir dir;
  std::ofstream(dir / "metrics.jsonl")
      << "{\"split\": \"train\"}\n{broken\n{\"split\": \"test\"}\n";
  try {
    read_metrics_rows(dir / "metrics.jsonl", BadMetricsRow::kThrow);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl line 2: invalid JSON"), std::string::npos)
        << e.what();
  }
  const auto rows = read_metrics_rows(dir / "metrics.jsonl", BadMetricsRow::kSkip);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].line, 3);
}

}  // namespace
}  // namespace cadenza
