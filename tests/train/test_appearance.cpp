// Per-photo colour codes (engine/train/appearance.h): the transform's gradient against
// finite differences in double precision (alone and through the training loss L1 + D-SSIM),
// the gauge projection, the closed-form fit with an occluder in the photo, the side file,
// and the `--appearance auto` rule on a static synthetic scene (off) and on the same scene
// with colour-transformed photos (on).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/io/image_io.h"
#include "engine/synth/wild_photos.h"
#include "engine/train/appearance.h"
#include "engine/train/appearance_fit.h"
#include "engine/train/appearance_rule.h"
#include "engine/render/tile_rasterizer_cpu.h"
#include "engine/train/losses.h"
#include "support/random_model.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {

std::vector<double> random_code(Rng& rng) {
  std::vector<double> c = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
  for (double& v : c) v += 0.2 * double(rng.normal());
  return c;
}

// L(code, in) = 0.8 L1(clamp(A in + b), target) + 0.2 (1 - SSIM_train(A in + b, target)), and its
// gradient through affine_colour_backward.
struct LossThroughCode {
  int w = 13, h = 11;
  std::vector<double> in, target;
  double value(const std::vector<double>& code, const std::vector<double>& input, std::vector<double>* g_code = nullptr,
               std::vector<double>* g_in = nullptr) const {
    const size_t n = size_t(w) * size_t(h);
    std::vector<double> out(3 * n), g_out(3 * n, 0.0);
    apply_affine_colour(code.data(), input.data(), out.data(), n, true);
    double L = 0.8 * l1_loss_raw<double>(w, h, 3, out.data(), target.data(), g_out.data(), 0.8, false);
    L += 0.2 * (1.0 - ssim_train_raw<double>(w, h, 3, out.data(), target.data(), g_out.data(), -0.2, true));
    if (g_code) {
      g_code->assign(kAppearanceParams, 0.0);
      g_in->assign(3 * n, 0.0);
      affine_colour_backward(code.data(), input.data(), g_out.data(), g_in->data(), g_code->data(), n, true);
    }
    return L;
  }
};

TEST(Appearance, GradientMatchesFiniteDifferences) {
  Rng rng(3);
  LossThroughCode f;
  const size_t n = size_t(f.w) * size_t(f.h);
  for (size_t i = 0; i < 3 * n; ++i) f.in.push_back(rng.uniform(0.05f, 0.95f)), f.target.push_back(rng.uniform());
  std::vector<double> code = random_code(rng);
  code[0] = 1.3, code[9] = 0.05;  // some red outputs beyond 1: the clamp takes part
  std::vector<double> g_code, g_in;
  f.value(code, f.in, &g_code, &g_in);
  const double h = 1e-6;
  double worst = 0;
  for (int k = 0; k < kAppearanceParams; ++k) {
    std::vector<double> p = code, m = code;
    p[size_t(k)] += h, m[size_t(k)] -= h;
    const double fd = (f.value(p, f.in) - f.value(m, f.in)) / (2 * h);
    worst = std::max(worst, std::abs(fd - g_code[size_t(k)]) / std::max(1e-3, std::abs(fd)));
  }
  EXPECT_LT(worst, 1e-5) << "code gradient, worst relative error";
  worst = 0;
  for (size_t i = 0; i < 3 * n; i += 7) {  // every 7th input value: the gradient handed to the rasterizer
    std::vector<double> p = f.in, m = f.in;
    p[i] += h, m[i] -= h;
    const double fd = (f.value(code, p) - f.value(code, m)) / (2 * h);
    worst = std::max(worst, std::abs(fd - g_in[i]) / std::max(1e-3, std::abs(fd)));
  }
  EXPECT_LT(worst, 1e-5) << "render gradient, worst relative error";
}

TEST(Appearance, FloatKernelsAgreeWithDouble) {
  Rng rng(4);
  const size_t n = 50;
  std::vector<float> in(3 * n), g(3 * n), out(3 * n), gi(3 * n), gc(12, 0.0f);
  std::vector<double> ind(3 * n), gd(3 * n), outd(3 * n), gid(3 * n), gcd(12, 0.0);
  for (size_t i = 0; i < 3 * n; ++i) ind[i] = in[i] = rng.uniform(), gd[i] = g[i] = rng.normal();
  const std::vector<double> cd = random_code(rng);
  const std::vector<float> c(cd.begin(), cd.end());
  apply_affine_colour(c.data(), in.data(), out.data(), n);
  apply_affine_colour(std::vector<double>(c.begin(), c.end()).data(), ind.data(), outd.data(), n);
  affine_colour_backward(c.data(), in.data(), g.data(), gi.data(), gc.data(), n);
  affine_colour_backward(std::vector<double>(c.begin(), c.end()).data(), ind.data(), gd.data(), gid.data(), gcd.data(), n);
  for (size_t i = 0; i < 3 * n; ++i) {
    EXPECT_NEAR(out[i], outd[i], 1e-5);
    EXPECT_NEAR(gi[i], gid[i], 1e-5);
  }
  for (int k = 0; k < 12; ++k) EXPECT_NEAR(gc[size_t(k)], gcd[size_t(k)], 1e-4 * std::max(1.0, std::abs(gcd[size_t(k)])));
}

TEST(Appearance, GaugeProjectionMakesTheMeanTheIdentity) {
  Rng rng(5);
  AppearanceCodes codes = identity_appearance_codes({"a.png", "b.png", "c.png"});
  for (float& v : codes.values) v += rng.normal(0.0f, 0.3f);
  const float diff01 = codes.values[0] - codes.values[12];
  project_mean_identity(codes);
  const std::vector<float> id = identity_appearance_code();
  for (int k = 0; k < kAppearanceParams; ++k) {
    const double mean = (codes.values[size_t(k)] + codes.values[size_t(12 + k)] + codes.values[size_t(24 + k)]) / 3.0;
    EXPECT_NEAR(mean, id[size_t(k)], 1e-6) << "parameter " << k;
  }
  EXPECT_NEAR(codes.values[0] - codes.values[12], diff01, 1e-6) << "differences between codes are kept";
  EXPECT_EQ(codes.find("b.png"), 1);
  EXPECT_EQ(codes.find("/some/folder/c.jpg"), 2);  // by stem
  EXPECT_EQ(codes.find("d.png"), -1);
}

// The viewer's picker recolours the model instead of the frame: rendered over the recoloured
// background it must give exactly the code's transform of the plain render.
TEST(Appearance, RecolouredModelRendersTheCodesTransformOfTheRender) {
  Rng rng(12);
  GaussianModel m = test::random_model(rng, 60, 2, 0, 0.5f);
  for (float& v : m.sh) v *= 0.3f;       // colours well inside [0, 1]: no clamp on either side
  for (float& o : m.opacities) o = 1.0f;    // opacity 0.73
  for (float& v : m.log_scales) v = -1.6f + 0.3f * v;  // small splats: the background shows between them
  Camera cam;
  cam.width = 48;
  cam.height = 36;
  cam.fx = cam.fy = 40;
  cam.cx = 24;
  cam.cy = 18;
  cam.t = glm::vec3(0, 0, 4);
  synth::WildPhotoOptions wo;
  wo.colour_spread = 0.2f;
  wo.seed = 4;
  const std::vector<float> code = synth::draw_colour_transforms(3, wo)[2].code();
  const glm::vec3 bg(0.2f, 0.3f, 0.1f);
  auto rast = make_cpu_rasterizer();
  RenderOptions ro;
  ro.sh_degree = 2;
  ro.background = bg;
  const RenderOutput plain = rast->forward(cam, params_of(m), ro);
  double alpha = 0;
  for (float a : plain.alpha.pixels) alpha += a / double(plain.alpha.pixels.size());
  ASSERT_GT(alpha, 0.2) << "the Gaussians cover part of the view";
  ASSERT_LT(alpha, 0.95) << "and the background shows too";
  const GaussianModel recoloured = recolour_model(m, code);
  ro.background = recolour_background(bg, code);
  const Image got = rast->forward(cam, params_of(recoloured), ro).color;
  const Image want = apply_affine_colour(code, plain.color);
  double worst = 0;
  for (size_t p = 0; p < got.pixels.size(); ++p) worst = std::max(worst, double(std::abs(got.pixels[p] - want.pixels[p])));
  std::printf("[recolour] mean alpha %.2f, max |render(recoloured) - code(render)| %.2e\n", alpha, worst);
  EXPECT_LT(worst, 2e-5);
  // The identity code changes nothing.
  const GaussianModel same = recolour_model(m, identity_appearance_code());
  for (size_t i = 0; i < m.sh.size(); ++i) EXPECT_NEAR(same.sh[i], m.sh[i], 1e-6f);
}

TEST(Appearance, FitRecoversAKnownTransformDespiteAnOccluder) {
  Rng rng(6);
  Image render(64, 48, 3);
  for (float& v : render.pixels) v = rng.uniform(0.05f, 0.95f);
  synth::WildPhotoOptions wo;
  wo.colour_spread = 0.3f;
  wo.seed = 9;
  const synth::ColourTransform t = synth::draw_colour_transforms(4, wo)[1];
  const std::vector<float> truth = t.code();
  Image photo = apply_affine_colour(truth, render);
  wo.occluders = 1;
  const Image pasted = synth::paste_occluders(photo, 0, wo);
  double share = 0;
  for (float v : pasted.pixels) share += v;
  share /= double(pasted.pixels.size());
  ASSERT_GT(share, 0.03) << "the occluder covers part of the photo";
  const std::vector<float> fitted = fit_appearance_code(render, photo);
  for (int k = 0; k < kAppearanceParams; ++k) EXPECT_NEAR(fitted[size_t(k)], truth[size_t(k)], 2e-3) << "parameter " << k;
  // A region restricts the fit: the left half alone gives the same transform.
  Image left(64, 48, 1);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 32; ++x) left.pixels[size_t(y) * 64 + size_t(x)] = 1.0f;
  const std::vector<float> half = fit_appearance_code(render, photo, left);
  for (int k = 0; k < kAppearanceParams; ++k) EXPECT_NEAR(half[size_t(k)], truth[size_t(k)], 5e-3) << "parameter " << k;
}

TEST(Appearance, SideFileRoundTripsAndRefusesGarbage) {
  const std::string dir = test::temp_dir("appearance-file");
  AppearanceCodes codes = identity_appearance_codes({"a.png", "b.png"});
  codes.values[3] = 0.125f;
  codes.values[20] = -0.5f;
  write_appearance_codes(dir + "/appearance.json", codes);
  const AppearanceCodes back = read_appearance_codes(dir + "/appearance.json");
  EXPECT_EQ(back.names, codes.names);
  EXPECT_EQ(back.values, codes.values);
  write_text_atomic(dir + "/bad.json", "{\"kind\": \"affine\", \"codes\": [{\"image\": \"a.png\", \"code\": [1, 2]}]}");
  test::expect_bad_input([&] { read_appearance_codes(dir + "/bad.json"); }, "12 numbers");
  write_text_atomic(dir + "/notjson.json", "{{");
  test::expect_bad_input([&] { read_appearance_codes(dir + "/notjson.json"); }, "not valid JSON");
}

TEST(AppearanceRule, StaticSceneIsOffTransformedPhotosAreOn) {
  namespace fs = std::filesystem;
  const std::string dir = test::temp_dir("appearance-rule");
  test::write_synthetic_colmap_scene(dir);
  DatasetOptions o;
  o.train_views = 5;
  const Dataset clean = Dataset::load(dir, o);
  const AppearanceSpread a = measure_appearance_spread(clean);
  std::printf("static synthetic scene: %s\n", a.describe().c_str());
  EXPECT_EQ(a.photos, clean.train_ids.size());
  EXPECT_FALSE(a.differs());
  // The same photos through colour transforms of spread 0.3.
  synth::WildPhotoOptions wo;
  wo.colour_spread = 0.3f;
  wo.seed = 2;
  const auto transforms = synth::draw_colour_transforms(int(clean.train_ids.size()), wo);
  for (size_t k = 0; k < clean.train_ids.size(); ++k) {
    Image im = clean.image(clean.train_ids[k]);
    synth::apply_colour_transform(im, transforms[k]);
    save_png(clean.image_paths[size_t(clean.train_ids[k])], im);
  }
  const Dataset wild = Dataset::load(dir, o);
  const AppearanceSpread b = measure_appearance_spread(wild);
  std::printf("the same scene, photos colour-transformed (spread 0.3): %s\n", b.describe().c_str());
  EXPECT_TRUE(b.differs());
}

// The real datasets: static captures stay off (the sparse protocols keep no shared points;
// fern with all 17 train views measures 0.02 / 0.01), the statue's 5 Flickr photos are on.
TEST(AppearanceRule, StaticRealDatasetsStayOffTheStatueIsOn) {
  struct Case {
    std::string name;
    int views;
    std::string protocol;
    bool on;
  };
  int ran = 0;
  for (const Case& c : std::vector<Case>{{"fern", 3, "llff", false},
                                         {"fern", 0, "llff", false},
                                         {"dtu_scan24", 3, "dtu", false},
                                         {"lego", 8, "blender", false},
                                         {"statue", 5, "auto", true}}) {
    const std::string dir = test::dataset(c.name);
    if (dir.empty()) continue;
    DatasetOptions o;
    o.train_views = c.views;
    o.protocol = c.protocol;
    if (c.name == "statue") o.resolution = 400;
    const AppearanceSpread s = measure_appearance_spread(Dataset::load(dir, o));
    std::printf("%s, %d train views: %s\n", c.name.c_str(), c.views, s.describe().c_str());
    EXPECT_EQ(s.differs(), c.on) << c.name;
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "no real datasets under " << SPARSPLAT_DATA_DIR;
}

}  // namespace
}  // namespace sp
