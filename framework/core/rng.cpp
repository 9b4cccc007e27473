#include "core/rng.hpp"

#include <Random123/philox.h>

namespace cadenza {
namespace {

// SplitMix64 finaliser: a bijective 64-bit mixer used only to build keys from seeds and tags.
uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

PhiloxCounter philox_block(PhiloxCounter counter, PhiloxKey key) {
  const r123::Philox4x32::ctr_type block = {{counter[0], counter[1], counter[2], counter[3]}};
  const r123::Philox4x32::key_type words = {{key[0], key[1]}};
  const r123::Philox4x32::ctr_type out = r123::Philox4x32{}(block, words);
  return {out[0], out[1], out[2], out[3]};
}

PhiloxKey derive_key(uint64_t seed, uint64_t tag_a, uint64_t tag_b, uint64_t tag_c) {
  uint64_t h = mix64(seed);
  h = mix64(h ^ tag_a);
  h = mix64(h ^ (tag_b + 0x632BE59BD9B4E019ull));
  h = mix64(h ^ (tag_c + 0x85157AF5B47A1C2Dull));
  return {static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32)};
}

void uniform_fill(PhiloxKey key, uint64_t first_block, float* dst, uint64_t n) {
  for (uint64_t i = 0; i < n; i += 4) {
    const uint64_t block = first_block + i / 4;
    const PhiloxCounter out =
        philox_block({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0}, key);
    for (uint64_t w = 0; w < 4 && i + w < n; ++w) {
      dst[i + w] = static_cast<float>(out[w] >> 8) * 0x1.0p-24f;
    }
  }
}

uint32_t CounterRng::next_u32() {
  const uint64_t block = position_ / 4;
  const auto word = static_cast<unsigned>(position_ % 4);
  ++position_;
  const PhiloxCounter out =
      philox_block({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0}, key_);
  return out[word];
}

uint64_t CounterRng::next_u64() {
  const uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

float CounterRng::uniform() {
  return static_cast<float>(next_u32() >> 8) * 0x1.0p-24f;
}

double CounterRng::uniform_double() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

uint64_t CounterRng::below(uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x = next_u64();
  while (x >= limit)
    x = next_u64();
  return x % n;
}

}  // namespace cadenza
