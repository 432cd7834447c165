// The refinement loop (engine/prior/refinement.h) driving the Trainer: pseudo targets only
// act where their alpha masks allow.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/core/rng.h"
#include "engine/prior/refinement.h"
#include "engine/render/rasterizer.h"
#include "engine/scene/dataset.h"
#include "engine/train/trainer.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp::prior {
namespace {

// A "denoiser" that always answers a flat red image: as far from any render as possible,
// so wherever a pseudo target applies the Gaussians must move.
class RedDenoiser : public Denoiser {
 public:
  std::string name() const override { return "red"; }
  Image predict_clean(const Image& noisy, float, const Image*) override {
    Image out(noisy.width, noisy.height, 3, -1.0f);
    for (size_t i = 0; i < out.pixel_count(); ++i) out.pixels[i * 3] = 1.0f;
    return out;
  }
};

void add_gaussian(GaussianModel& m, glm::vec3 p, float scale, float opacity_logit) {
  const size_t i = m.size();
  m.resize(i + 1);
  for (int d = 0; d < 3; ++d) {
    m.means[i * 3 + size_t(d)] = p[d];
    m.log_scales[i * 3 + size_t(d)] = std::log(scale);
  }
  m.opacities[i] = opacity_logit;
  for (int c = 0; c < 3; ++c) m.sh[i * 3 + size_t(c)] = 0.5f;  // a grey, degree 0
}

struct Fixture {
  std::string dir = test::temp_dir("refine_scene");
  Dataset data;
  GaussianModel model;
  size_t dense_count = 0;  // first Gaussians: the opaque cluster; the rest are faint
  Fixture() {
    test::SyntheticSceneOptions so;
    so.views = 12;
    so.gaussians = 50;
    test::write_synthetic_colmap_scene(dir, so);
    DatasetOptions o;
    o.train_ids = {0, 1, 2};
    o.test_ids = {6};
    data = Dataset::load(dir, o);
    model.sh_degree = 0;
    Rng rng(3);
    for (int i = 0; i < 40; ++i)  // opaque cluster at the origin: render alpha ~1
      add_gaussian(model, {rng.uniform(-0.2f, 0.2f), rng.uniform(-0.2f, 0.2f), rng.uniform(-0.2f, 0.2f)}, 0.07f, 4.0f);
    dense_count = model.size();
    for (int i = 0; i < 6; ++i)  // faint specks well above it: render alpha < 0.5
      add_gaussian(model, {rng.uniform(-0.3f, 0.3f), -1.3f, rng.uniform(-0.3f, 0.3f)}, 0.03f, -1.0f);
  }
};

// Is any mask pixel within `margin` pixels of Gaussian i's projected 3-sigma footprint?
bool near_mask(const GaussianModel& m, size_t i, const RefinedView& v, float margin) {
  const glm::vec3 p = v.camera.to_camera({m.means[i * 3], m.means[i * 3 + 1], m.means[i * 3 + 2]});
  const float u = v.camera.fx * p.x / p.z + v.camera.cx, w = v.camera.fy * p.y / p.z + v.camera.cy;
  const float r = 3.0f * std::exp(m.log_scales[i * 3]) * v.camera.fx / p.z + margin;
  for (int y = 0; y < v.mask.height; ++y)
    for (int x = 0; x < v.mask.width; ++x)
      if (v.mask.at(x, y, 0) > 0 && std::hypot(x + 0.5f - u, y + 0.5f - w) <= r) return true;
  return false;
}

std::vector<RefinedView> one_round(Fixture& f, Rasterizer& rasterizer, const GaussianModel& model,
                                   const RefinementOptions& o) {
  RedDenoiser red;
  std::vector<Camera> cams;
  std::vector<const Image*> images;
  std::vector<std::shared_ptr<const Image>> keep;
  for (int id : f.data.train_ids) {
    cams.push_back(f.data.cameras[size_t(id)]);
    keep.push_back(f.data.image_ptr(id));
    images.push_back(keep.back().get());
  }
  return refine_pseudo_views(red, rasterizer, params_of(model), RenderOptions{0}, cams, images, o, 0, 10, 0);
}

// Trains `iterations` steps on nothing but the pseudo targets; returns the model.
GaussianModel train_on(Fixture& f, Rasterizer& rasterizer, const std::vector<RefinedView>& views) {
  TrainOptions to;
  to.iterations = 8;
  to.sh_degree = 0;
  to.densify_until = 0;  // no densification, no opacity reset: only gradients move Gaussians
  Trainer trainer(f.data, f.model, to, rasterizer);
  std::vector<PseudoTarget> targets;
  for (const auto& v : views) targets.push_back({v.camera, v.refined, v.mask});
  trainer.set_pseudo_targets(targets, {1.0f, 1.0f});  // every step a pseudo view
  trainer.run();
  return trainer.model();
}

bool same_gaussian(const GaussianModel& a, const GaussianModel& b, size_t i) {
  for (int d = 0; d < 3; ++d)
    if (a.means[i * 3 + size_t(d)] != b.means[i * 3 + size_t(d)] ||
        a.log_scales[i * 3 + size_t(d)] != b.log_scales[i * 3 + size_t(d)] || a.sh[i * 3 + size_t(d)] != b.sh[i * 3 + size_t(d)])
      return false;
  for (int d = 0; d < 4; ++d)
    if (a.rotations[i * 4 + size_t(d)] != b.rotations[i * 4 + size_t(d)]) return false;
  return a.opacities[i] == b.opacities[i];
}

TEST(Refinement, ChangesGaussiansOnlyWhereTheAlphaMaskAllows) {
  Fixture f;
  auto rasterizer = make_cpu_rasterizer();
  RefinementOptions o;
  o.views = 3;
  o.alpha_threshold = 0.5f;
  o.sampler.steps = 2;
  const auto views = one_round(f, *rasterizer, f.model, o);
  ASSERT_EQ(views.size(), 3u);
  // The geometry the test relies on: the faint specks lie outside every mask by more than the
  // SSIM window's reach (5 px), the opaque cluster inside.
  for (const auto& v : views) {
    float covered = 0;
    for (float m : v.mask.pixels) covered += m;
    ASSERT_GT(covered, 20.0f) << v.camera.name;
    ASSERT_LT(covered, 0.5f * float(v.mask.pixel_count())) << v.camera.name;
    for (size_t i = f.dense_count; i < f.model.size(); ++i) ASSERT_FALSE(near_mask(f.model, i, v, 6.0f)) << i;
  }
  const GaussianModel trained = train_on(f, *rasterizer, views);
  ASSERT_EQ(trained.size(), f.model.size());
  size_t moved = 0;
  for (size_t i = 0; i < f.dense_count; ++i) moved += same_gaussian(trained, f.model, i) ? 0 : 1;
  EXPECT_GT(moved, f.dense_count / 2);  // pulled toward the red targets
  // The cluster turned red where the masks applied.
  float red_gain = 0;
  for (size_t i = 0; i < f.dense_count; ++i) red_gain += trained.sh[i * 3] - trained.sh[i * 3 + 1];
  EXPECT_GT(red_gain, 0.0f);
  for (size_t i = f.dense_count; i < f.model.size(); ++i) EXPECT_TRUE(same_gaussian(trained, f.model, i)) << i;
}

TEST(Refinement, EmptyMasksLeaveTheModelUntouched) {
  Fixture f;
  auto rasterizer = make_cpu_rasterizer();
  RefinementOptions o;
  o.views = 2;
  o.alpha_threshold = 1.01f;  // no render reaches it: every mask is empty
  o.sampler.one_step = true;
  const auto views = one_round(f, *rasterizer, f.model, o);
  for (const auto& v : views)
    for (float m : v.mask.pixels) ASSERT_EQ(m, 0.0f);
  const GaussianModel trained = train_on(f, *rasterizer, views);
  for (size_t i = 0; i < f.model.size(); ++i) EXPECT_TRUE(same_gaussian(trained, f.model, i)) << i;
}

TEST(Refinement, WithoutAMaskThresholdTheSpecksMoveToo) {
  // The control for the first test: the specks are reachable, only the mask kept them still.
  Fixture f;
  auto rasterizer = make_cpu_rasterizer();
  RefinementOptions o;
  o.views = 3;
  o.alpha_threshold = 0.0f;
  o.sampler.steps = 2;
  const GaussianModel trained = train_on(f, *rasterizer, one_round(f, *rasterizer, f.model, o));
  size_t moved = 0;
  for (size_t i = f.dense_count; i < f.model.size(); ++i) moved += same_gaussian(trained, f.model, i) ? 0 : 1;
  EXPECT_GT(moved, 0u);
}

TEST(Refinement, MinChangeLeavesBarelyChangedPixelsUnsupervised) {
  const int w = 20, h = 10;
  Image render(w, h, 3, 0.5f), refined(w, h, 3), alpha(w, h, 1, 1.0f);
  Rng rng(5);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)  // left half: a real correction; right half: faint noise
        refined.at(x, y, c) = 0.5f + (x < w / 2 ? 0.3f : rng.uniform(-0.02f, 0.02f));
  for (int x = 0; x < w; ++x) alpha.at(x, 0, 0) = 0.2f;  // top row: not covered by the render
  const Image all = pseudo_target_mask(render, refined, alpha, 0.5f, 0.0f);
  const Image gated = pseudo_target_mask(render, refined, alpha, 0.5f, 0.05f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      EXPECT_EQ(all.at(x, y, 0), y == 0 ? 0.0f : 1.0f) << x << "," << y;
      // The 3x3 average keeps the column next to the corrected half (it sees 0.3 / 3 = 0.1).
      const bool changed = x < w / 2 + 1;
      EXPECT_EQ(gated.at(x, y, 0), y > 0 && changed ? 1.0f : 0.0f) << x << "," << y;
    }
  test::expect_bad_input([&] { pseudo_target_mask(render, refined, Image(3, 3, 1), 0.5f, 0.0f); }, "share a size");
}

TEST(Refinement, ScheduleAndPoses) {
  RefinementOptions o;
  o.start_iteration = 100;
  o.every = 50;
  EXPECT_FALSE(refinement_due(o, 99));
  EXPECT_TRUE(refinement_due(o, 100));
  EXPECT_FALSE(refinement_due(o, 120));
  EXPECT_TRUE(refinement_due(o, 200));
  o.strength_start = 0.6f;
  o.strength_end = 0.2f;
  EXPECT_FLOAT_EQ(refinement_strength(o, 100, 300), 0.6f);
  EXPECT_FLOAT_EQ(refinement_strength(o, 300, 300), 0.2f);
  EXPECT_NEAR(refinement_strength(o, 200, 300), 0.4f, 1e-6f);
  // Target poses: each round moves pose_fraction more of the way from the nearest train camera.
  Camera a, b, target;
  for (Camera* c : {&a, &b, &target}) *c = Camera{"c", 32, 24, 30, 30, 16, 12};
  a.t = {0, 0, 4};
  b.t = {2, 0, 4};
  target.t = {0.5f, 0, 4};  // centre (-0.5, 0, -4): nearest to a
  o.target_poses = {target};
  o.pose_fraction = 0.5f;
  const auto r0 = refinement_cameras(o, {a, b}, 0), r1 = refinement_cameras(o, {a, b}, 1);
  ASSERT_EQ(r0.size(), 1u);
  EXPECT_NEAR(r0[0].center().x, -0.25f, 1e-5f);
  EXPECT_NEAR(r1[0].center().x, -0.5f, 1e-5f);
  EXPECT_EQ(nearest_camera(target, {b, a}), 1);
}

}  // namespace
}  // namespace sp::prior
