// Philox4x32-10 against the known-answer vectors published with Random123 (kat_vectors), and the
// properties the rest of cadenza relies on: streams resume from (key, position), bulk fills agree
// with element-wise draws regardless of how a range is split.
#include <gtest/gtest.h>

#include <vector>

#include "core/rng.hpp"

namespace cadenza {
namespace {

TEST(Philox, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(philox_block({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox_block({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                         {0xffffffffu, 0xffffffffu}),
            (PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox_block({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                         {0xa4093822u, 0x299f31d0u}),
            (PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Philox, StreamResumesFromSavedPosition) {
  CounterRng first(derive_key(42, 7));
  for (int i = 0; i < 13; ++i)
    first.next_u32();
  CounterRng resumed(first.key(), first.position());
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(first.next_u32(), resumed.next_u32());
}

TEST(Philox, DerivedKeysDifferByTag) {
  EXPECT_NE(derive_key(1, 0), derive_key(1, 1));
  EXPECT_NE(derive_key(1, 0, 0), derive_key(2, 0, 0));
  EXPECT_NE(derive_key(1, 0, 1), derive_key(1, 1, 0));
  EXPECT_EQ(derive_key(5, 6, 7, 8), derive_key(5, 6, 7, 8));
}

TEST(Philox, BulkFillIsIndependentOfSplit) {
  const PhiloxKey key = derive_key(3);
  std::vector<float> whole(1001);
  uniform_fill(key, 0, whole.data(), whole.size());
  std::vector<float> split(1001);
  uniform_fill(key, 0, split.data(), 400);
  uniform_fill(key, 100, split.data() + 400, 601);
  EXPECT_EQ(whole, split);
  CounterRng stream(key);
  for (size_t i = 0; i < whole.size(); ++i)
    ASSERT_EQ(whole[i], stream.uniform()) << i;
}

// The bulk fill computes blocks in vector lanes; every element must still be Random123's scalar
// word, for every length (whole blocks and a partial last one) and for block numbers whose low
// word wraps into the high word of the counter.
TEST(Philox, BulkFillMatchesScalarPhilox) {
  const PhiloxKey key = derive_key(9, 4);
  for (const uint64_t first_block : {uint64_t{0}, uint64_t{7}, uint64_t{0xfffffff0u}}) {
    for (const uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{4}, uint64_t{63},
                             uint64_t{64}, uint64_t{65}, uint64_t{257}, uint64_t{1000}}) {
      std::vector<float> bulk(n);
      uniform_fill(key, first_block, bulk.data(), n);
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t block = first_block + i / 4;
        const PhiloxCounter words = philox_block(
            {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0}, key);
        ASSERT_EQ(bulk[i], static_cast<float>(words[i % 4] >> 8) * 0x1.0p-24f)
            << "first block " << first_block << ", n " << n << ", element " << i;
      }
    }
  }
}

TEST(Philox, UniformMomentsAndBelowRange) {
  CounterRng rng(derive_key(11));
  double sum = 0.0;
  double sum_squares = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform_double();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_squares += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sum_squares / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.002);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i)
    ++counts[rng.below(7)];
  for (const int count : counts)
    EXPECT_NEAR(count, 10000, 500);
}

}  // namespace
}  // namespace cadenza
