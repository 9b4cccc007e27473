// The HDF5 dataset format (write, read, validation) and the .mat benchmark import.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/sha256.hpp"
#include "data/dataset.hpp"
#include "data/inspect.hpp"
#include "data/mat_import.hpp"
#include "support/process.hpp"

namespace cadenza {
namespace {

using testing::ScratchDir;

// A random 0/1 roll of `frames` x `pitches`, reproducible from (seed, tag).
PianoRoll random_roll(int64_t frames, int pitches, uint64_t tag) {
  PianoRoll roll;
  roll.frames = frames;
  roll.pitches = pitches;
  roll.cells.resize(static_cast<size_t>(frames * pitches));
  CounterRng rng(derive_key(7, tag));
  for (auto& cell : roll.cells)
    cell = rng.uniform() < 0.1f ? 1 : 0;
  return roll;
}

Dataset small_dataset() {
  Dataset dataset;
  dataset.info.name = "tiny";
  dataset.info.source = "hand-made";
  dataset.info.source_sha256 = sha256_hex("hand-made");
  dataset.info.frames_per_quarter = 4;
  dataset.info.lowest_pitch = 36;
  dataset.info.num_pitches = 24;
  for (auto& split : dataset.splits)
    split.pitches = 24;
  dataset.splits[0].append(random_roll(5, 24, 1), "a.mid");
  dataset.splits[0].append(random_roll(17, 24, 2), "sub/b.mid");
  dataset.splits[0].append(random_roll(1, 24, 3), "ç.mid");
  dataset.splits[1].append(random_roll(9, 24, 4), "d.mid");
  // The test split stays empty: an empty split must round-trip too.
  return dataset;
}

void expect_same_split(const SplitRolls& a, const SplitRolls& b) {
  EXPECT_EQ(a.pitches, b.pitches);
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.names, b.names);
  EXPECT_EQ(a.cells, b.cells);
}

// Opens a written dataset with the HDF5 C API to damage it in one specific way.
class RawFile {
 public:
  explicit RawFile(const std::filesystem::path& path)
      : id_(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    EXPECT_GE(id_, 0);
  }
  ~RawFile() { H5Fclose(id_); }
  hid_t id() const { return id_; }

  void replace_int_attribute(const char* object, const char* name, int64_t value) const {
    const hid_t target = H5Oopen(id_, object, H5P_DEFAULT);
    H5Adelete(target, name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute =
        H5Acreate2(target, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, H5T_NATIVE_INT64, &value);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Oclose(target);
  }
  void replace_string_attribute(const char* name, const std::string& value) const {
    H5Adelete(id_, name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, value.size());
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(id_, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, type, value.data());
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }
  // Overwrites the first `values.size()` elements of an int64 or uint8 dataset.
  template <class T>
  void overwrite(const char* dataset, const std::vector<T>& values, hid_t memory_type) const {
    const hid_t data = H5Dopen2(id_, dataset, H5P_DEFAULT);
    const hid_t file_space = H5Dget_space(data);
    const hsize_t start[2] = {0, 0};
    hsize_t count[2] = {values.size(), 1};
    const int rank = H5Sget_simple_extent_ndims(file_space);
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const hsize_t memory_count[1] = {values.size()};
    const hid_t memory_space = H5Screate_simple(1, memory_count, nullptr);
    EXPECT_GE(rank, 1);
    EXPECT_GE(H5Dwrite(data, memory_type, memory_space, file_space, H5P_DEFAULT, values.data()), 0);
    H5Sclose(memory_space);
    H5Sclose(file_space);
    H5Dclose(data);
  }

 private:
  hid_t id_;
};

// Expects `action` to throw InputError whose message contains every fragment.
template <class F>
void expect_input_error(F action, std::initializer_list<std::string> fragments) {
  try {
    action();
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "missing \"" << fragment << "\" in: " << e.what();
    }
  }
}

TEST(DatasetFormat, WriteThenReadRoundTripsEveryField) {
  ScratchDir dir;
  const auto path = dir / "tiny.h5";
  const Dataset written = small_dataset();
  write_dataset(path, written);

  const DatasetHeader header = read_dataset_header(path);
  EXPECT_EQ(header.format_version, kDatasetFormatVersion);
  EXPECT_EQ(header.info.name, "tiny");
  EXPECT_EQ(header.info.source, "hand-made");
  EXPECT_EQ(header.info.source_sha256, written.info.source_sha256);
  EXPECT_EQ(header.info.frames_per_quarter, 4);
  EXPECT_EQ(header.info.lowest_pitch, 36);
  EXPECT_EQ(header.info.num_pitches, 24);
  EXPECT_EQ(header.info.created_by, std::string("cadenza ") + CADENZA_VERSION);
  EXPECT_EQ(header.counts[0].sequences, 3);
  EXPECT_EQ(header.counts[0].frames, 23);
  EXPECT_EQ(header.counts[1].sequences, 1);
  EXPECT_EQ(header.counts[1].frames, 9);
  EXPECT_EQ(header.counts[2].sequences, 0);
  EXPECT_EQ(header.counts[2].frames, 0);

  const Dataset read = read_dataset(path);
  for (size_t s = 0; s < 3; ++s)
    expect_same_split(read.splits[s], written.splits[s]);
  expect_same_split(read_split(path, "valid"), written.splits[1]);
  const PianoRoll second = read.splits[0].sequence(1, read.info.lowest_pitch);
  EXPECT_EQ(second.frames, 17);
  EXPECT_EQ(second.lowest_pitch, 36);
  EXPECT_EQ(second.cells, random_roll(17, 24, 2).cells);
}

TEST(DatasetFormat, WritingReplacesAtomicallyAndLeavesNoTemporaryFile) {
  ScratchDir dir;
  const auto path = dir / "tiny.h5";
  std::ofstream(path) << "an older file";
  write_dataset(path, small_dataset());
  EXPECT_EQ(read_dataset_header(path).info.name, "tiny");
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "tiny.h5");
  }
  EXPECT_EQ(entries, 1);
}

TEST(DatasetFormat, InconsistentDatasetsAreRejectedBeforeAnythingIsWritten) {
  ScratchDir dir;
  Dataset dataset = small_dataset();
  dataset.splits[1].names.clear();
  expect_input_error([&] { write_dataset(dir / "bad.h5", dataset); },
                     {"split valid", "0 names for 1 sequences"});
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  SplitRolls split;
  split.pitches = 24;
  expect_input_error([&] { split.append(random_roll(3, 12, 1), "narrow.mid"); },
                     {"narrow.mid", "12 pitches"});
}

TEST(DatasetFormat, BadFilesGiveInputErrorsNamingFileAndProblem) {
  ScratchDir dir;
  const auto missing = dir / "missing.h5";
  expect_input_error([&] { read_dataset(missing); }, {missing.string(), "no such file"});

  const auto text = dir / "text.h5";
  std::ofstream(text) << "not hdf5 at all";
  expect_input_error([&] { read_dataset_header(text); }, {text.string(), "not an HDF5 file"});

  const auto make = [&](const std::string& name) {
    const auto path = dir / name;
    write_dataset(path, small_dataset());
    return path;
  };
  const auto wrong_format = make("format.h5");
  RawFile(wrong_format).replace_string_attribute("format", "something-else");
  expect_input_error([&] { read_dataset(wrong_format); },
                     {wrong_format.string(), "\"something-else\"", "cadenza-dataset"});

  const auto wrong_version = make("version.h5");
  RawFile(wrong_version).replace_int_attribute("/", "format_version", 99);
  expect_input_error([&] { read_dataset(wrong_version); }, {"format_version 99", "version 1"});

  const auto no_name = make("noname.h5");
  {
    const RawFile raw(no_name);
    H5Adelete(raw.id(), "name");
  }
  expect_input_error([&] { read_dataset_header(no_name); }, {"missing attribute /name"});

  const auto wrong_count = make("count.h5");
  RawFile(wrong_count).replace_int_attribute("/train", "frames", 24);
  expect_input_error([&] { read_split(wrong_count, "train"); },
                     {"split train", "expected 0 to frames = 24"});

  const auto wrong_offsets = make("offsets.h5");
  RawFile(wrong_offsets).overwrite<int64_t>("/train/offsets", {0, 5, 5}, H5T_NATIVE_INT64);
  expect_input_error([&] { read_split(wrong_offsets, "train"); },
                     {"offsets[1] = 5 is not below offsets[2] = 5"});

  const auto wrong_cells = make("cells.h5");
  RawFile(wrong_cells).overwrite<uint8_t>("/valid/rolls", {0, 1, 7}, H5T_NATIVE_UINT8);
  expect_input_error([&] { read_split(wrong_cells, "valid"); },
                     {"split valid", "rolls[2, 0] = 7", "0 or 1"});

  EXPECT_THROW(read_split(make("split.h5"), "validation"), ConfigError);
}

// The table of ../shared/datasets/polyphonic/SOURCE.md: file -> sha256 and per-split counts.
struct SourceRow {
  std::string sha256;
  std::array<SplitCounts, 3> counts;
};

std::map<std::string, SourceRow> read_source_table() {
  const std::string text =
      testing::slurp(testing::shared_dir() / "datasets" / "polyphonic" / "SOURCE.md");
  const std::regex row(
      R"(\| (\w+\.mat) \| ([0-9a-f]{64}) \| ([\d,]+) / ([\d,]+) \| ([\d,]+) / ([\d,]+) \| ([\d,]+) / ([\d,]+) \|)");
  const auto number = [](std::string digits) {
    std::erase(digits, ',');
    return std::stoll(digits);
  };
  std::map<std::string, SourceRow> table;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator();
       ++it) {
    const auto& match = *it;
    SourceRow entry;
    entry.sha256 = match[2];
    for (size_t s = 0; s < 3; ++s) {
      entry.counts[s] = {number(match[3 + 2 * s]), number(match[4 + 2 * s])};
    }
    table[match[1]] = entry;
  }
  return table;
}

TEST(DatasetMat, AllFourBenchmarksMatchSourceMdCountsAndSha256) {
  const auto table = read_source_table();
  ASSERT_EQ(table.size(), 4u) << "SOURCE.md should list the four benchmarks";
  for (const auto& [file, expected] : table) {
    SCOPED_TRACE(file);
    const auto path = testing::shared_dir() / "datasets" / "polyphonic" / file;
    const Dataset dataset = import_mat(path, std::filesystem::path(file).stem().string());
    EXPECT_EQ(dataset.info.source, file);
    EXPECT_EQ(dataset.info.source_sha256, expected.sha256);
    EXPECT_EQ(dataset.info.frames_per_quarter, 0);
    EXPECT_EQ(dataset.info.lowest_pitch, 21);
    EXPECT_EQ(dataset.info.num_pitches, 88);
    for (size_t s = 0; s < 3; ++s) {
      EXPECT_EQ(dataset.splits[s].sequences(), expected.counts[s].sequences) << kSplitNames[s];
      EXPECT_EQ(dataset.splits[s].frames(), expected.counts[s].frames) << kSplitNames[s];
    }
  }
}

TEST(DatasetMat, ImportedBenchmarkRoundTripsThroughHdf5) {
  ScratchDir dir;
  const auto mat = testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat";
  const Dataset imported = import_mat(mat, "JSB_Chorales");
  EXPECT_EQ(imported.splits[0].names.front(), "traindata{1}");
  write_dataset(dir / "jsb.h5", imported);
  const Dataset read = read_dataset(dir / "jsb.h5");
  for (size_t s = 0; s < 3; ++s)
    expect_same_split(read.splits[s], imported.splits[s]);
  // SOURCE.md: JSB has 3.9 active keys per frame on average.
  EXPECT_NEAR(compute_split_statistics(read.splits[0]).mean_polyphony(), 3.9, 0.05);
}

TEST(DatasetMat, NonMatFilesAreInputErrors) {
  ScratchDir dir;
  const auto fake = dir / "fake.mat";
  std::ofstream(fake) << "MATLAB? no.";
  expect_input_error([&] { import_mat(fake, "fake"); }, {fake.string(), "not a MATLAB .mat file"});
  expect_input_error([&] { import_mat(dir / "absent.mat", "absent"); }, {"absent.mat", "no such"});
}

TEST(DatasetInspect, StatisticsAreExactCounts) {
  SplitRolls split;
  split.pitches = 3;
  PianoRoll roll;
  roll.pitches = 3;
  roll.frames = 4;
  roll.cells = {0, 0, 0,  //
                1, 0, 0,  //
                1, 1, 0,  //
                1, 1, 1};
  split.append(roll, "a");
  roll.frames = 1;
  roll.cells = {0, 0, 0};
  split.append(roll, "b");
  const SplitStatistics stats = compute_split_statistics(split);
  EXPECT_EQ(stats.sequences, 2);
  EXPECT_EQ(stats.frames, 5);
  EXPECT_EQ(stats.shortest, 1);
  EXPECT_EQ(stats.longest, 4);
  EXPECT_EQ(stats.active_cells, 6);
  EXPECT_EQ(stats.silent_frames, 2);
  EXPECT_EQ(stats.polyphony_histogram, (std::vector<int64_t>{2, 1, 1, 1}));
  EXPECT_EQ(stats.pitch_histogram, (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(stats.max_polyphony(), 3);
  EXPECT_DOUBLE_EQ(stats.silence_ratio(), 0.4);
  EXPECT_DOUBLE_EQ(stats.mean_polyphony(), 1.2);

  DatasetInfo info;
  info.name = "three";
  info.lowest_pitch = 60;
  info.num_pitches = 3;
  const std::string table = format_inspection(info, {stats, SplitStatistics{}, SplitStatistics{}});
  EXPECT_NE(table.find("frames per quarter  unknown"), std::string::npos) << table;
  EXPECT_NE(table.find("MIDI 60 C4 .. 62 D4"), std::string::npos) << table;
  EXPECT_NE(table.find("  60   C4          3          0          0"), std::string::npos) << table;
  EXPECT_EQ(pitch_name(21), "A0");
  EXPECT_EQ(pitch_name(61), "C#4");
}

}  // namespace
}  // namespace cadenza
