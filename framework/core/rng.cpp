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

namespace {

// The top 24 bits of a word as a float in [0, 1), exactly.
float word_to_uniform(uint32_t word) {
  return static_cast<float>(word >> 8) * 0x1.0p-24f;
}

// dst [4 * blocks]: dst[4b + w] = word_to_uniform(word w of Philox block first_block + b).
// The same rounds as Random123's philox4x32_R<10> (multipliers 0xD2511F53 and 0xCD9E8D57, Weyl
// key increments 0x9E3779B9 and 0xBB67AE85) on the counter {low and high word of the block
// number, 0, 0}, written block by block with no dependence between blocks, so that the compiler
// computes 4, 8 or 16 blocks at once in vector registers; target_clones builds it for AVX-512,
// AVX2 and baseline x86-64 and picks one at load time. Its results are held to Random123's scalar
// philox_block by the test BulkFillMatchesScalarPhilox.
__attribute__((target_clones("avx512f", "avx2", "default"))) void philox_fill_blocks(
    PhiloxKey key, uint64_t first_block, float* dst, uint64_t blocks) {
  for (uint64_t b = 0; b < blocks; ++b) {
    uint32_t c0 = static_cast<uint32_t>(first_block + b);
    uint32_t c1 = static_cast<uint32_t>((first_block + b) >> 32);
    uint32_t c2 = 0;
    uint32_t c3 = 0;
    uint32_t k0 = key[0];
    uint32_t k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      const uint64_t product0 = uint64_t{0xD2511F53u} * c0;
      const uint64_t product1 = uint64_t{0xCD9E8D57u} * c2;
      c0 = static_cast<uint32_t>(product1 >> 32) ^ c1 ^ k0;
      c1 = static_cast<uint32_t>(product1);
      c2 = static_cast<uint32_t>(product0 >> 32) ^ c3 ^ k1;
      c3 = static_cast<uint32_t>(product0);
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    dst[4 * b] = word_to_uniform(c0);
    dst[4 * b + 1] = word_to_uniform(c1);
    dst[4 * b + 2] = word_to_uniform(c2);
    dst[4 * b + 3] = word_to_uniform(c3);
  }
}

}  // namespace

void uniform_fill(PhiloxKey key, uint64_t first_block, float* dst, uint64_t n) {
  const uint64_t whole_blocks = n / 4;
  philox_fill_blocks(key, first_block, dst, whole_blocks);
  if (n % 4 == 0) return;
  const uint64_t block = first_block + whole_blocks;
  const PhiloxCounter out =
      philox_block({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0}, key);
  for (uint64_t w = 0; w < n % 4; ++w)
    dst[4 * whole_blocks + w] = word_to_uniform(out[w]);
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
  return word_to_uniform(next_u32());
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
