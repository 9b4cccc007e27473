#include "data/mat_import.hpp"

#include <fmt/format.h>
#include <matio.h>

#include <array>
#include <memory>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace cadenza {
namespace {

constexpr int kMatLowestPitch = 21;
constexpr size_t kMatPitches = 88;
constexpr std::array<const char*, 3> kMatVariables = {"traindata", "validdata", "testdata"};

struct MatCloser {
  void operator()(mat_t* mat) const { Mat_Close(mat); }
};
struct VariableFreer {
  void operator()(matvar_t* variable) const { Mat_VarFree(variable); }
};

// One cell of a split: a (frames x 88) column-major double matrix of 0/1 -> a row-major roll.
PianoRoll read_cell(const matvar_t* cell, const std::string& where) {
  if (cell == nullptr || cell->class_type != MAT_C_DOUBLE || cell->isComplex != 0 ||
      cell->rank != 2 || cell->data == nullptr) {
    throw InputError(
        fmt::format("{}: expected a real (frames x {}) double matrix", where, kMatPitches));
  }
  const size_t frames = cell->dims[0];
  if (cell->dims[1] != kMatPitches || frames == 0) {
    throw InputError(fmt::format("{}: matrix is {} x {}; expected (frames >= 1) x {}", where,
                                 frames, cell->dims[1], kMatPitches));
  }
  const auto* values = static_cast<const double*>(cell->data);
  PianoRoll roll;
  roll.frames = static_cast<int64_t>(frames);
  roll.pitches = static_cast<int>(kMatPitches);
  roll.lowest_pitch = kMatLowestPitch;
  roll.cells.assign(frames * kMatPitches, 0);
  for (size_t p = 0; p < kMatPitches; ++p) {
    for (size_t t = 0; t < frames; ++t) {
      const double value = values[t + p * frames];
      if (value != 0.0 && value != 1.0) {
        throw InputError(fmt::format("{}: element ({}, {}) is {}; piano-roll cells must be 0 or 1",
                                     where, t + 1, p + 1, value));
      }
      roll.cells[t * kMatPitches + p] = static_cast<uint8_t>(value);
    }
  }
  return roll;
}

}  // namespace

Dataset import_mat(const std::filesystem::path& mat_path, const std::string& name) {
  if (!std::filesystem::is_regular_file(mat_path)) {
    throw InputError(fmt::format("{}: no such file", mat_path.string()));
  }
  const std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(mat_path.c_str(), MAT_ACC_RDONLY));
  if (!mat) {
    throw InputError(
        fmt::format("{}: not a MATLAB .mat file libmatio can read", mat_path.string()));
  }
  Dataset dataset;
  dataset.info.name = name;
  dataset.info.source = mat_path.filename().string();
  dataset.info.source_sha256 = sha256_file_hex(mat_path);
  dataset.info.frames_per_quarter = 0;
  dataset.info.lowest_pitch = kMatLowestPitch;
  dataset.info.num_pitches = static_cast<int>(kMatPitches);
  for (size_t s = 0; s < kMatVariables.size(); ++s) {
    const char* variable_name = kMatVariables[s];
    const std::unique_ptr<matvar_t, VariableFreer> variable(Mat_VarRead(mat.get(), variable_name));
    if (!variable || variable->class_type != MAT_C_CELL) {
      throw InputError(
          fmt::format("{}: missing cell array {} (a .mat benchmark holds traindata, "
                      "validdata and testdata)",
                      mat_path.string(), variable_name));
    }
    size_t cells = 1;
    for (int d = 0; d < variable->rank; ++d)
      cells *= variable->dims[d];
    auto& split = dataset.splits[s];
    split.pitches = static_cast<int>(kMatPitches);
    for (size_t i = 0; i < cells; ++i) {
      const auto sequence_name = fmt::format("{}{{{}}}", variable_name, i + 1);
      const auto where = fmt::format("{}: {}", mat_path.string(), sequence_name);
      split.append(read_cell(Mat_VarGetCell(variable.get(), static_cast<int>(i)), where),
                   sequence_name);
    }
  }
  return dataset;
}

}  // namespace cadenza
