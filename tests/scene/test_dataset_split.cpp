#include <gtest/gtest.h>

#include "engine/core/error.h"
#include "engine/io/spare.h"
#include "engine/scene/dataset_split.h"
#include "engine/scene/image_cache.h"

#include <atomic>
#include <thread>
#include "support/test_support.h"

namespace sp {
namespace {

using V = std::vector<int>;

using ::sp::test::expect_bad_input;

TEST(Split, LinspaceRoundsLikeNumPy) {
  EXPECT_EQ(linspace_indices(17, 3), (V{0, 8, 16}));
  EXPECT_EQ(linspace_indices(118, 3), (V{0, 58, 117}));  // 58.5 -> 58: round half to even
  EXPECT_EQ(linspace_indices(10, 3), (V{0, 4, 9}));      // 4.5 -> 4
  EXPECT_EQ(linspace_indices(12, 3), (V{0, 6, 11}));     // 5.5 -> 6
  EXPECT_EQ(linspace_indices(42, 9), (V{0, 5, 10, 15, 20, 26, 31, 36, 41}));
  EXPECT_EQ(linspace_indices(5, 1), (V{0}));
  EXPECT_TRUE(linspace_indices(5, 0).empty());
}

TEST(Split, LlffHoldout) {
  // fern: 20 views; test = 0, 8, 16; the other 17 are [1..7, 9..15, 17..19];
  // round(linspace(0, 16, 3)) = [0, 8, 16] of those = views 1, 10, 19.
  Split s = holdout_split(20, 3);
  EXPECT_EQ(s.test, (V{0, 8, 16}));
  EXPECT_EQ(s.train, (V{1, 10, 19}));
  EXPECT_NE(s.protocol.find("round(linspace(0, 16, 3))"), std::string::npos) << s.protocol;
  s = holdout_split(20, 0);
  EXPECT_EQ(s.train.size(), 17u);
  s = holdout_split(135, 3);  // statue
  EXPECT_EQ(s.test.size(), 17u);
  EXPECT_EQ(s.train, (V{1, 67, 134}));
  s = holdout_split(1, 0);
  EXPECT_EQ(s.train, (V{0}));
  EXPECT_TRUE(s.test.empty());
  expect_bad_input([] { holdout_split(20, 18, "fern"); }, "fern: asked for 18 train views but only 17");
}

TEST(Split, Blender) {
  Split s = blender_split(100, 25, 8);
  EXPECT_EQ(s.train, (V{2, 16, 26, 55, 73, 76, 86, 93}));
  ASSERT_EQ(s.test.size(), 25u);
  EXPECT_EQ(s.test.front(), 100);
  EXPECT_EQ(s.test.back(), 124);
  EXPECT_EQ(blender_split(100, 25, 3).train, (V{2, 16, 26}));
  EXPECT_EQ(blender_split(100, 25, 0).train.size(), 100u);
  EXPECT_EQ(blender_split(100, 25, 10).train, linspace_indices(100, 10));
  EXPECT_EQ(blender_split(50, 5, 3).train, (V{0, 24, 49}));  // the protocol ids do not fit 50 frames
  expect_bad_input([] { blender_split(10, 5, 11); }, "transforms_train has 10 frames");
}

TEST(Split, SpareFile) {
  const SpareSplit entry{.input_views = {5, 2, 7}, .test_views = {9, 0}, .dataset = ""};
  // The first N input views in the file's order; test views as listed.
  Split s = spare_file_split(entry, 10, 2, "split.json", "scan1");
  EXPECT_EQ(s.train, (V{5, 2}));
  EXPECT_EQ(s.test, (V{9, 0}));
  EXPECT_EQ(s.protocol, "SpaRe split of split.json: train = the first 2 input views [5, 2], test = its test views");
  s = spare_file_split(entry, 10, 0, "split.json", "scan1");  // N = 0: every non-test view
  EXPECT_EQ(s.train, (V{1, 2, 3, 4, 5, 6, 7, 8}));
  expect_bad_input([&] { spare_file_split(entry, 10, 4, "split.json", "scan1"); },
                   "split.json: scene 'scan1' has 3 input views; 4 train views were asked for");
  expect_bad_input([&] { spare_file_split(entry, 8, 2, "split.json", "scan1"); }, "test view 9 is out of range (0..7)");
  expect_bad_input([&] { spare_file_split(entry, 7, 3, "split.json", "scan1"); }, "test view 9 is out of range");
  const SpareSplit far{.input_views = {1, 8}, .test_views = {0}, .dataset = ""};
  expect_bad_input([&] { spare_file_split(far, 5, 2, "split.json", "scan1"); }, "input view 8 is out of range (0..4)");
}

TEST(Split, ExplicitIds) {
  const Split p = holdout_split(20, 3);
  Split s = explicit_split(20, {5, 3}, {0, 19}, p, "d");
  EXPECT_EQ(s.train, (V{3, 5}));
  EXPECT_EQ(s.test, (V{0, 19}));
  s = explicit_split(20, {5, 3}, {}, p, "d");
  EXPECT_EQ(s.test, (V{0, 8, 16}));  // the protocol's test views
  s = explicit_split(20, {}, {2, 4}, p, "d");
  EXPECT_EQ(s.train, (V{1, 10, 19}));
  expect_bad_input([&] { explicit_split(20, {3, 20}, {0}, p, "d"); }, "train id 20 is out of range (expected 0..19)");
  expect_bad_input([&] { explicit_split(20, {3, -1}, {0}, p, "d"); }, "out of range");
  expect_bad_input([&] { explicit_split(20, {3, 3}, {0}, p, "d"); }, "listed twice");
  expect_bad_input([&] { explicit_split(20, {3, 4}, {4}, p, "d"); }, "view 4 is in both");
  expect_bad_input([&] { explicit_split(20, {8}, {}, p, "d"); }, "it is a test view of the protocol");
  expect_bad_input([&] { explicit_split(1, {}, {0}, holdout_split(1, 0), "d"); }, "view 0 is in both");
  Split empty;
  expect_bad_input([&] { explicit_split(3, {}, {1}, empty, "d"); }, "the train split is empty");
}

TEST(Split, PointsSeenByTrainViews) {
  PointCloud pc;
  pc.has_tracks = true;
  const std::vector<std::vector<int>> tracks = {{0, 1}, {1, 2, 3}, {3}, {0, 3}, {}};
  for (size_t i = 0; i < tracks.size(); ++i) {
    for (int k = 0; k < 3; ++k) {
      pc.xyz.push_back(float(i));
      pc.rgb.push_back(0.1f * float(i));
    }
    pc.tracks.push_back(tracks[i]);
  }
  const PointCloud k = keep_points_seen_by(pc, {1, 3}, 4);
  ASSERT_EQ(k.size(), 1u);  // only point 1 is seen by both train views 1 and 3
  EXPECT_EQ(k.xyz[0], 1.0f);
  EXPECT_EQ(k.tracks[0], (V{1, 2, 3}));
  EXPECT_TRUE(k.has_tracks);
  EXPECT_EQ(keep_points_seen_by(pc, {0, 1, 3}, 4).size(), 3u);
  EXPECT_EQ(keep_points_seen_by(pc, {0, 1, 3}, 4, 1).size(), 4u);
}

TEST(LruCache, EvictsLeastRecentlyUsedByBytes) {
  LruCache<std::vector<char>> cache(250);
  int made = 0;
  const auto get = [&](uint64_t key, size_t bytes) {
    return cache.get(key, [&] { ++made; return std::make_shared<const std::vector<char>>(bytes, char(key)); },
                     [](const std::vector<char>& v) { return v.size(); });
  };
  get(1, 100);
  get(2, 100);
  EXPECT_EQ(cache.bytes(), 200u);
  get(1, 100);  // hit: 1 becomes most recent
  EXPECT_EQ(made, 2);
  get(3, 100);  // evicts 2
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.bytes(), 200u);
  get(1, 100);
  EXPECT_EQ(made, 3);
  get(2, 100);
  EXPECT_EQ(made, 4);
  // Larger than the whole budget: returned, not kept.
  const auto big = get(9, 1000);
  EXPECT_EQ(big->size(), 1000u);
  EXPECT_LE(cache.bytes(), 250u);
  // A failing make reaches the caller and leaves nothing behind.
  EXPECT_THROW(cache.get(7, []() -> std::shared_ptr<const std::vector<char>> { throw std::runtime_error("x"); },
                         [](const std::vector<char>& v) { return v.size(); }),
               std::runtime_error);
  EXPECT_EQ(get(7, 10)->size(), 10u);
}

TEST(LruCache, ConcurrentCallersMakeEachKeyOnce) {
  LruCache<int> cache(1 << 20);
  std::atomic<int> made{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int k = 0; k < 20; ++k) {
        const auto v = cache.get(uint64_t(k), [&] {
          ++made;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          return std::make_shared<const int>(k * k);
        }, [](const int&) { return sizeof(int); });
        EXPECT_EQ(*v, k * k);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(made.load(), 20);
}

}  // namespace
}  // namespace sp
