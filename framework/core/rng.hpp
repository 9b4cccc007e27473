// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011, "Parallel random numbers:
// as easy as 1, 2, 3"), computed by Random123, the authors' reference implementation
// (librandom123-dev). A value depends only on (key, counter), never on which thread asks or
// when, so a stream can be split across threads and replayed exactly from its saved state. The
// keying (derive_key) and the streams over a key are cadenza's.
#pragma once

#include <array>
#include <cstdint>

namespace cadenza {

using PhiloxCounter = std::array<uint32_t, 4>;
using PhiloxKey = std::array<uint32_t, 2>;

// One Philox4x32-10 block: four 32-bit random words for (counter, key).
PhiloxCounter philox_block(PhiloxCounter counter, PhiloxKey key);

// Mixes a 64-bit seed with up to three purpose tags (e.g. epoch, sample index, layer id) into
// a key, so that independent uses of one experiment seed never share a stream.
PhiloxKey derive_key(uint64_t seed, uint64_t tag_a = 0, uint64_t tag_b = 0, uint64_t tag_c = 0);

// Fills dst[i] with a uniform float in [0, 1) taken from word i % 4 of Philox block
// (first_block + i / 4). Element i depends only on (key, first_block, i), so any split of the
// range across threads gives the same values.
void uniform_fill(PhiloxKey key, uint64_t first_block, float* dst, uint64_t n);

// A stream of random numbers over one key. Its whole state is (key, position): saving those two
// values and restoring them resumes the stream exactly.
class CounterRng {
 public:
  explicit CounterRng(PhiloxKey key, uint64_t position = 0) : key_(key), position_(position) {}

  uint32_t next_u32();
  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits (exactly representable in float).
  float uniform();
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // Uniform integer in [0, n), unbiased (rejection sampling). n must be > 0.
  uint64_t below(uint64_t n);

  PhiloxKey key() const { return key_; }
  // Number of 32-bit words consumed so far.
  uint64_t position() const { return position_; }

 private:
  PhiloxKey key_;
  uint64_t position_;
};

}  // namespace cadenza
