// "Did you mean": the declared name closest to a misspelt one.
#pragma once

#include <string>
#include <vector>

namespace cadenza::config {

// Levenshtein distance (insertions, deletions, substitutions each cost 1).
size_t edit_distance(const std::string& a, const std::string& b);

// The shortest candidate that `wanted` is a prefix of (3+ characters), else the candidate with
// the smallest edit distance, or "" when none is within half of `wanted`'s length (at least 2
// edits are always allowed).
std::string nearest_name(const std::string& wanted, const std::vector<std::string>& candidates);

}  // namespace cadenza::config
