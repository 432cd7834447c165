// The flat parameter layout of the GPU trainer (cuda/flat_params.h) on the CPU: the fused
// Adam kernel's group lookup and the model <-> buffer round trip. Runs without a device.
#include <gtest/gtest.h>

#include "cuda/flat_params.h"
#include "engine/core/rng.h"
#include "support/random_model.h"

namespace sp {
namespace {

GaussianModel random_model(size_t n, int degree, int extras, uint64_t seed) {
  Rng rng(seed);
  return test::random_model(rng, n, degree, extras);
}

TEST(FlatParams, SegmentsFollowTheModelLayout) {
  const FlatLayout l = FlatLayout::of(5, 16, 2);
  EXPECT_EQ(l.offset[kSegMeans], 0u);
  EXPECT_EQ(l.offset[kSegLogScales], 15u);
  EXPECT_EQ(l.offset[kSegRotations], 30u);
  EXPECT_EQ(l.offset[kSegOpacities], 50u);
  EXPECT_EQ(l.offset[kSegSh], 55u);
  EXPECT_EQ(l.offset[kSegExtras], 55u + 5 * 48);
  EXPECT_EQ(l.total(), 55u + 5 * 48 + 10);
}

// Every flat element's group, enumerated independently from the model's arrays: what
// Adam::step applies to each array (SH DC = the first 3 floats of each row).
TEST(FlatParams, AdamGroupOfEveryElementMatchesTheCpuParamGroups) {
  for (int degree = 0; degree <= 3; ++degree)
    for (int extras : {0, 3}) {
      const size_t n = 7;
      const int K = sh_coeff_count(degree);
      const FlatLayout l = FlatLayout::of(n, K, extras);
      std::vector<int> expected;
      for (size_t i = 0; i < n * 3; ++i) expected.push_back(0);
      for (size_t i = 0; i < n * 3; ++i) expected.push_back(1);
      for (size_t i = 0; i < n * 4; ++i) expected.push_back(2);
      for (size_t i = 0; i < n; ++i) expected.push_back(3);
      for (size_t g = 0; g < n; ++g)
        for (int k = 0; k < K * 3; ++k) expected.push_back(k < 3 ? 4 : 5);
      for (size_t i = 0; i < n * size_t(extras); ++i) expected.push_back(6);
      ASSERT_EQ(expected.size(), l.total());
      for (size_t i = 0; i < l.total(); ++i)
        ASSERT_EQ(flat_adam_group(l, i), expected[i]) << "degree " << degree << " extras " << extras << " i " << i;
    }
}

TEST(FlatParams, FlattenAndUnflattenRoundTrip) {
  const GaussianModel m = random_model(11, 2, 3, 5);
  const std::vector<float> flat = flatten(m);
  EXPECT_EQ(flat.size(), FlatLayout::of(11, 9, 3).total());
  EXPECT_EQ(flat[FlatLayout::of(11, 9, 3).offset[kSegOpacities] + 4], m.opacities[4]);
  GaussianModel back;
  back.sh_degree = 2;
  back.extra_channels = 3;
  unflatten(flat, 11, back);
  EXPECT_EQ(back.means, m.means);
  EXPECT_EQ(back.log_scales, m.log_scales);
  EXPECT_EQ(back.rotations, m.rotations);
  EXPECT_EQ(back.opacities, m.opacities);
  EXPECT_EQ(back.sh, m.sh);
  EXPECT_EQ(back.extras, m.extras);
}

}  // namespace
}  // namespace sp
