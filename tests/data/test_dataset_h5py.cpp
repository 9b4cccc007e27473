// Our .h5 datasets read by an independent HDF5 reader: /usr/bin/python3 with h5py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "data/mat_import.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::ScratchDir;

TEST(DatasetH5py, PythonReadsTheLayoutTheHeaderDocuments) {
  ScratchDir dir;
  const auto mat = testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat";
  Dataset dataset = import_mat(mat, "JSB_Chorales");
  dataset.splits[2].names[0] = "naïve name";  // non-ASCII survives as UTF-8
  write_dataset(dir / "jsb.h5", dataset);

  const auto script = testing::source_dir() / "tests" / "python" / "h5py_read_dataset.py";
  const auto result =
      testing::run_shell("/usr/bin/python3 '" + script.string() + "' '" +
                         (dir / "jsb.h5").string() + "' '" + (dir / "out.json").string() + "'");
  ASSERT_EQ(result.exit_code, 0) << "python3 + h5py must be installed (scripts/test.sh does it)\n"
                                 << result.err;
  const auto json = nlohmann::json::parse(testing::slurp(dir / "out.json"));

  const auto& attributes = json["attributes"];
  EXPECT_EQ(attributes["format"], "cadenza-dataset");
  EXPECT_EQ(attributes["format_version"], 1);
  EXPECT_EQ(attributes["name"], "JSB_Chorales");
  EXPECT_EQ(attributes["source"], "JSB_Chorales.mat");
  EXPECT_EQ(attributes["source_sha256"],
            "ac0e608527cc411c7e21ef7d38be47f0de7fb6b13b3ae168b8eccf1c2a9b18d4");
  EXPECT_EQ(attributes["frames_per_quarter"], 0);
  EXPECT_EQ(attributes["lowest_pitch"], 21);
  EXPECT_EQ(attributes["num_pitches"], 88);
  EXPECT_EQ(attributes["created_by"], std::string("cadenza ") + CADENZA_VERSION);

  for (size_t s = 0; s < 3; ++s) {
    SCOPED_TRACE(kSplitNames[s]);
    const auto& split = dataset.splits[s];
    const auto& seen = json["splits"][std::string(kSplitNames[s])];
    EXPECT_EQ(seen["sequences"], split.sequences());
    EXPECT_EQ(seen["frames"], split.frames());
    EXPECT_EQ(seen["rolls_shape"], nlohmann::json::array({split.frames(), 88}));
    EXPECT_EQ(seen["rolls_dtype"], "uint8");
    EXPECT_EQ(seen["rolls_compression"], "gzip");
    EXPECT_EQ(seen["offsets_dtype"], "int64");
    EXPECT_EQ(seen["offsets"].get<std::vector<int64_t>>(), split.offsets);
    EXPECT_EQ(seen["names"].get<std::vector<std::string>>(), split.names);
    std::vector<int64_t> sounding;
    for (int64_t i = 0; i < split.sequences(); ++i) {
      int64_t count = 0;
      for (uint8_t cell : split.sequence_cells(i))
        count += cell;
      sounding.push_back(count);
    }
    EXPECT_EQ(seen["sounding_per_sequence"].get<std::vector<int64_t>>(), sounding);
  }
}

}  // namespace
}  // namespace cadenza
