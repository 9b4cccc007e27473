// Import of the classic polyphonic benchmarks (Boulanger-Lewandowski et al. 2012) from their
// MATLAB .mat files through libmatio. Each file holds three 1xN cell arrays, traindata,
// validdata and testdata; each cell is a (frames x 88) double matrix of 0/1 and column i is MIDI
// pitch 21 + i.
#pragma once

#include <filesystem>
#include <string>

#include "data/dataset.hpp"

namespace cadenza {

// Reads the three splits of `mat_path` into a dataset named `name`, with frames_per_quarter 0
// (unknown), lowest_pitch 21, 88 pitches, source = the file name and source_sha256 = the file's
// sha256. Sequence i of a split is named "<cell array>{i+1}" (MATLAB's 1-based index). Throws
// InputError naming the file, variable and cell when the file does not have that shape or a cell
// holds a value other than 0 or 1.
Dataset import_mat(const std::filesystem::path& mat_path, const std::string& name);

}  // namespace cadenza
