// The GPU radix sort (shaders/radix_*.comp) against std::stable_sort: exact keys and values
// (stable: equal keys keep their input order), sizes around the 2048-key block and up to 1M.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <cstring>
#include <random>

#include "display/display_test_support.h"
#include "engine/display/depth_sorter.h"

namespace sp {
namespace {

void check_sort(DepthSorter& sorter, size_t n, uint32_t key_range, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> keys(n), values(n);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = key_range ? uint32_t(rng() % key_range) : uint32_t(rng());
    values[i] = uint32_t(i);
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  std::vector<uint32_t> want_keys(n);
  for (size_t i = 0; i < n; ++i) want_keys[i] = keys[order[i]];

  sorter.sort(keys, values);
  ASSERT_EQ(keys, want_keys) << "n = " << n << ", key range " << key_range;
  ASSERT_EQ(values, order) << "n = " << n << " (stability)";
}

TEST(DepthSorter, ExactAgainstStdSortOnRandomKeys) {
  SP_REQUIRE_VULKAN(dev, true);
  DepthSorter sorter(*dev);
  uint64_t seed = 1;
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(255), size_t(2047), size_t(2048), size_t(2049),
                   size_t(10007), size_t(100000)})
    check_sort(sorter, n, 0, seed++);
  EXPECT_EQ(dev->validation_messages(), 0u);
}

TEST(DepthSorter, StableWithManyEqualKeys) {
  SP_REQUIRE_VULKAN(dev, false);
  DepthSorter sorter(*dev);
  check_sort(sorter, 50000, 16, 11);      // one digit only
  check_sort(sorter, 50000, 70000, 12);   // a few digits
  check_sort(sorter, 4099, 1, 13);        // all equal
}

TEST(DepthSorter, OneMillionKeys) {
  SP_REQUIRE_VULKAN(dev, false);
  DepthSorter sorter(*dev);
  check_sort(sorter, size_t(1) << 20, 0, 21);
  // Depth keys as the splat pipeline writes them: bits of positive floats.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> z(0.2f, 100.0f);
  std::vector<uint32_t> keys(300000), values(keys.size());
  std::vector<float> depths(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    depths[i] = z(rng);
    std::memcpy(&keys[i], &depths[i], 4);
    values[i] = uint32_t(i);
  }
  sorter.sort(keys, values);
  for (size_t i = 1; i < keys.size(); ++i) ASSERT_LE(depths[values[i - 1]], depths[values[i]]);
}

}  // namespace
}  // namespace sp
