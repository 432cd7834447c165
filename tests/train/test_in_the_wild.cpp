// Training on photos in the wild (docs/in_the_wild.md), on the synthetic ring scene with
// exact ground truth: train photos given known colour transforms are fitted by the
// appearance codes (recovered within a stated tolerance, held-out renders closer to the
// clean truth than without codes); pasted occluders are kept out of the held-out renders
// by the trimmed loss and show in its masks; a run with codes and the trimmed loss resumes
// bit-identically and rolls back a poisoned code.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>

#include "engine/eval/metrics.h"
#include "engine/io/image_io.h"
#include "engine/scene/initialization.h"
#include "engine/synth/wild_photos.h"
#include "engine/train/robust_loss.h"
#include "engine/train/trainer.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {

// The ring scene with 6 train views (LLFF hold-out: views 0 and 8 are the clean test views);
// `edit(k, image)` changes train photo k on disk before the dataset is loaded.
Dataset wild_scene(const std::string& label, const std::function<void(size_t, Image&)>& edit) {
  const std::string dir = test::temp_dir(label);
  test::write_synthetic_colmap_scene(dir);
  DatasetOptions o;
  o.train_views = 6;
  const Dataset clean = Dataset::load(dir, o);
  for (size_t k = 0; k < clean.train_ids.size(); ++k) {
    Image im = clean.image(clean.train_ids[k]);
    edit(k, im);
    save_png(clean.image_paths[size_t(clean.train_ids[k])], im);
  }
  return Dataset::load(dir, o);
}

GaussianModel start(const Dataset& data) { return test::random_start(data, 1000); }

TrainOptions training(bool appearance, bool robust) {
  TrainOptions o;
  o.iterations = 400;
  o.sh_degree = 1;
  o.sh_increase_interval = 200;
  o.appearance.enabled = appearance;
  o.robust.enabled = robust;
  return o;
}

// How far apart two colour codes are on a photo's own colours: the mean over its pixels and
// channels of |clamp(T_a c) - clamp(T_b c)|. The scene's colours are blended over black and
// so lie near one axis (luminance): the 3x3 matrix is identifiable only in its action on
// them, which is what this measures (and what a render shows).
double photo_distance(const std::vector<float>& a, const std::vector<float>& b, const Image& clean) {
  const Image x = apply_affine_colour(a, clean, true), y = apply_affine_colour(b, clean, true);
  double sum = 0;
  for (size_t i = 0; i < x.pixels.size(); ++i) sum += std::abs(double(x.pixels[i]) - double(y.pixels[i]));
  return sum / double(x.pixels.size());
}

TEST(InTheWild, AppearanceCodesRecoverKnownColourTransforms) {
  synth::WildPhotoOptions wo;
  wo.colour_spread = 0.2f;
  wo.seed = 21;
  const std::vector<synth::ColourTransform> truth = synth::draw_colour_transforms(6, wo);
  std::vector<Image> clean(6);
  const Dataset data = wild_scene("wild-colour", [&](size_t k, Image& im) {
    clean[k] = im;
    synth::apply_colour_transform(im, truth[k]);
  });
  auto rasterizer = make_cpu_rasterizer();
  double psnr[2] = {};
  for (int on = 0; on < 2; ++on) {
    Trainer t(data, start(data), training(on == 1, false), *rasterizer);
    t.run();
    psnr[on] = test::mean_test_psnr(data, t.model(), t.active_sh_degree());
    if (!on) {
      EXPECT_EQ(t.appearance_codes(), nullptr);
      continue;
    }
    const AppearanceCodes* codes = t.appearance_codes();
    ASSERT_NE(codes, nullptr);
    ASSERT_EQ(codes->size(), truth.size());
    double worst = 0, worst_before = 0, least_before = 1;
    for (size_t k = 0; k < truth.size(); ++k) {
      const double before = photo_distance(identity_appearance_code(), truth[k].code(), clean[k]);
      const double after = photo_distance(codes->code(k), truth[k].code(), clean[k]);
      worst = std::max(worst, after);
      worst_before = std::max(worst_before, before);
      least_before = std::min(least_before, before);
    }
    std::printf("colour transforms (spread %.2f) move the photos' colours by %.4f..%.4f on average; the recovered "
                "codes are within %.4f of them\n",
                wo.colour_spread, least_before, worst_before, worst);
    EXPECT_GT(worst_before, 0.04) << "the transforms change the photos visibly";
    EXPECT_LT(worst, 0.015);
    EXPECT_LT(worst, 0.25 * worst_before);
  }
  std::printf("held-out PSNR against the clean views: without codes %.2f dB, with codes %.2f dB\n", psnr[0], psnr[1]);
  EXPECT_GT(psnr[1], psnr[0] + 1.0);
}

TEST(InTheWild, TrimmedLossKeepsPastedOccludersOut) {
  synth::WildPhotoOptions wo;
  wo.occluders = 2;
  wo.occluder_size = 0.16f;
  wo.seed = 4;
  std::vector<Image> pasted(6);
  const Dataset data = wild_scene("wild-occluders", [&](size_t k, Image& im) { pasted[k] = synth::paste_occluders(im, int(k), wo); });
  double share = 0;
  for (const Image& m : pasted)
    for (float v : m.pixels) share += v / double(m.pixels.size() * pasted.size());
  auto rasterizer = make_cpu_rasterizer();
  double psnr[2] = {};
  for (int on = 0; on < 2; ++on) {
    const TrainOptions o = training(false, on == 1);
    Trainer t(data, start(data), o, *rasterizer);
    t.run();
    psnr[on] = test::mean_test_psnr(data, t.model(), t.active_sh_degree());
    if (!on) continue;
    // The final masks: occluder pixels found, clean pixels kept.
    double hit = 0, occluder = 0, false_alarm = 0, clean = 0;
    RenderOptions ro;
    ro.sh_degree = t.active_sh_degree();
    for (size_t k = 0; k < 6; ++k) {
      const int id = data.train_ids[k];
      const Image render = rasterizer->forward(data.cameras[size_t(id)], params_of(t.model()), ro).color;
      const Image inlier = transient_inlier_mask(render, data.image(id), o.robust);
      for (size_t p = 0; p < inlier.pixels.size(); ++p) {
        const bool transient = inlier.pixels[p] < 0.5f, truth = pasted[k].pixels[p] > 0.5f;
        occluder += truth, hit += truth && transient;
        clean += !truth, false_alarm += !truth && transient;
      }
    }
    std::printf("occluders (%.1f%% of the train pixels): %.1f%% of them masked as transient, %.1f%% of the clean "
                "pixels\n",
                100 * share, 100 * hit / occluder, 100 * false_alarm / clean);
    EXPECT_GT(hit / occluder, 0.7);
    EXPECT_LT(false_alarm / clean, 0.15);
  }
  std::printf("held-out PSNR against the clean views: plain loss %.2f dB, trimmed loss %.2f dB\n", psnr[0], psnr[1]);
  EXPECT_GT(psnr[1], psnr[0] + 3.0);
}

// 8 views, 4 train: codes and the trimmed loss on, the run stopped and
// resumed anywhere ends bit-identical, codes included.
TEST(InTheWild, ResumeWithCodesAndTrimmedLossIsBitIdentical) {
  const std::string dir = test::temp_dir("wild-resume");
  test::write_synthetic_colmap_scene(dir, test::small_ring_scene());
  DatasetOptions d;
  d.train_ids = {0, 2, 4, 6};
  d.test_ids = {1, 5};
  const Dataset data = Dataset::load(dir, d);
  InitOptions init;
  init.sh_degree = 1;
  init.random_points = 400;
  init.seed = 11;
  const GaussianModel initial = gaussians_from_points(random_points_in_view_volume(data, init), init);
  TrainOptions o;
  o.iterations = 30;
  o.sh_degree = 1;
  o.densify_interval = 6;
  o.appearance.enabled = true;
  o.appearance.lr = 1e-2f;
  o.robust.enabled = true;
  auto rasterizer = make_cpu_rasterizer();
  Trainer straight(data, initial, o, *rasterizer);
  straight.run();
  ASSERT_NE(straight.appearance_codes(), nullptr);
  EXPECT_NE(straight.appearance_codes()->values, identity_appearance_codes({"0", "2", "4", "6"}).values) << "codes moved";
  for (long stop : {2L, 7L, 19L}) {
    Trainer first(data, initial, o, *rasterizer);
    while (first.iteration() < stop) first.step();
    const std::string ckpt = dir + "/stop_" + std::to_string(stop) + ".bin";
    first.save_checkpoint(ckpt);
    Trainer resumed(data, initial, o, *rasterizer);
    resumed.load_checkpoint(ckpt);
    resumed.run();
    EXPECT_EQ(straight.model().means, resumed.model().means) << "stopped at " << stop;
    EXPECT_EQ(straight.model().sh, resumed.model().sh) << "stopped at " << stop;
    EXPECT_EQ(straight.appearance_codes()->values, resumed.appearance_codes()->values) << "stopped at " << stop;
  }
  // A run without codes refuses the checkpoint (its fingerprint names the codes).
  TrainOptions plain = o;
  plain.appearance.enabled = false;
  Trainer other(data, initial, plain, *rasterizer);
  test::expect_bad_input([&] { other.load_checkpoint(dir + "/stop_7.bin"); }, "in_the_wild");
  // A poisoned code gradient rolls back and halves the codes' learning rate only.
  TrainOptions poison = o;
  poison.test_poison_iteration = 12;
  poison.test_poison_group = "appearance";
  Trainer p(data, initial, poison, *rasterizer);
  bool rolled = false;
  p.run([&](const StepStats& s) { rolled = rolled || s.rolled_back; });
  EXPECT_TRUE(rolled);
  EXPECT_EQ(p.learning_rate_factors().means, 1.0f);
}

}  // namespace
}  // namespace sp
