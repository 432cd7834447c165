// The libtorch backends: UNet checkpoints, a Python-traced TorchScript model, training steps.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/core/rng.h"
#include "engine/io/npy.h"
#include "engine/prior/prior_training.h"
#include "engine/prior/sampler.h"
#include "engine/prior/unet.h"
#include "support/test_support.h"

namespace sp::prior {
namespace {
namespace fs = std::filesystem;

Image random_image(int w, int h, uint64_t seed, float lo = -1, float hi = 1) {
  Rng rng(seed);
  Image im(w, h, 3);
  for (float& v : im.pixels) v = rng.uniform(lo, hi);
  return im;
}

Image smooth_image(int w, int h, float phase) {
  Image im(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) im.at(x, y, c) = 0.5f + 0.35f * std::sin(0.25f * x + 0.15f * y + phase + c);
  return im;
}

float max_diff(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  float m = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) m = std::max(m, std::abs(a.pixels[i] - b.pixels[i]));
  return m;
}

struct TorchThreads : ::testing::Environment {
  void SetUp() override { init_torch_threads(); }
};
const auto* const torch_threads = ::testing::AddGlobalTestEnvironment(new TorchThreads);

TEST(UNet, SaveLoadRoundTripIsExact) {
  UNetConfig c;
  c.base_channels = 8;
  c.levels = 3;
  UNetDenoiser net(c, 5);
  // Move the weights off their initialization so the identity-at-start output does not hide a loss.
  PriorOptimizer opt(net, {});
  Rng rng(1);
  TrainingSample s{smooth_image(16, 16, 0), smooth_image(16, 16, 0.5f), smooth_image(16, 16, 1.0f)};
  opt.step({&s}, rng);
  const std::string path = test::temp_dir("unet") + "/prior.pt";
  net.save(path);
  const auto loaded = UNetDenoiser::load(path);
  EXPECT_EQ(loaded->config().base_channels, 8);
  EXPECT_EQ(loaded->parameter_count(), net.parameter_count());
  const Image x = random_image(21, 13, 2), ref = random_image(21, 13, 3);  // not a multiple of 4: padding path
  const Image a = net.predict_clean(x, 0.4f, &ref), b = loaded->predict_clean(x, 0.4f, &ref);
  ASSERT_EQ(a.width, 21);
  ASSERT_EQ(a.height, 13);
  EXPECT_EQ(a.pixels, b.pixels);
  // load_denoiser recognises the built-in format.
  const auto generic = load_denoiser(path);
  EXPECT_EQ(generic->name(), "unet");
  EXPECT_EQ(generic->predict_clean(x, 0.4f, &ref).pixels, a.pixels);
}

TEST(UNet, UntrainedIsTheScaledIdentity) {
  UNetDenoiser net({8, 2}, 0);
  const Image x = random_image(8, 8, 4);
  const Image y = net.predict_clean(x, 0.25f, nullptr);
  for (size_t i = 0; i < x.pixels.size(); ++i) EXPECT_NEAR(y.pixels[i], 0.5f * x.pixels[i], 1e-6f);
}

TEST(UNet, TrainingLowersTheLossAndResumesExactly) {
  UNetConfig c{8, 2};
  std::vector<TrainingSample> samples;
  for (int i = 0; i < 3; ++i) {
    TrainingSample s;
    s.clean = smooth_image(16, 16, float(i));
    s.degraded = s.clean;
    for (float& v : s.degraded.pixels) v = 0.5f + 0.5f * (v - 0.5f);  // a washed-out render
    s.reference = smooth_image(16, 16, float(i) + 0.2f);
    samples.push_back(s);
  }
  std::vector<const TrainingSample*> batch;
  for (const auto& s : samples) batch.push_back(&s);
  PriorOptimizerOptions o;
  o.crop = 16;
  o.learning_rate = 2e-3f;
  o.degraded_t_max = 0.05f;
  UNetDenoiser net(c, 1);
  PriorOptimizer opt(net, o);
  Rng rng(7);
  float first = 0, last = 0;
  for (int k = 0; k < 30; ++k) {
    const float loss = opt.step(batch, rng);
    if (k < 3) first += loss / 3;
    if (k >= 27) last += loss / 3;
  }
  EXPECT_LT(last, 0.7f * first) << first << " -> " << last;

  // Resume: a checkpoint continued gives the same next step as the uninterrupted run.
  const std::string ck = test::temp_dir("prior_ck") + "/ck.pt";
  opt.save_checkpoint(ck);
  Rng rng_copy = rng;
  const float continued = opt.step(batch, rng);
  UNetDenoiser net2(c, 99);
  PriorOptimizer opt2(net2, o);
  opt2.load_checkpoint(ck);
  EXPECT_EQ(opt2.steps(), 30);
  const float resumed = opt2.step(batch, rng_copy);
  EXPECT_FLOAT_EQ(resumed, continued);
  const Image x = random_image(16, 16, 8);
  EXPECT_EQ(net.predict_clean(x, 0.5f, nullptr).pixels, net2.predict_clean(x, 0.5f, nullptr).pixels);
}

TEST(TorchScript, TracedInPythonMatchesInCpp) {
  const std::string python = "/usr/bin/python3";
  if (!fs::exists(python)) GTEST_SKIP() << "no /usr/bin/python3";
  if (std::system((python + " -c 'import torch, numpy' > /dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "python3-torch / python3-numpy not installed";
  const std::string dir = test::temp_dir("torchscript");
  const std::string cmd = python + " " + SPARSPLAT_SOURCE_DIR + "/tests/prior/trace_denoiser.py " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto load_image = [&](const std::string& name) {
    const NpyArray a = read_npy(dir + "/" + name);
    EXPECT_EQ(a.ndim(), 3u);
    Image im(int(a.shape[1]), int(a.shape[0]), int(a.shape[2]));
    im.pixels = a.to_float();
    return im;
  };
  const Image x = load_image("x_t.npy"), ref = load_image("reference.npy"), expected = load_image("expected.npy");
  const float ab = float(read_npy(dir + "/alpha_bar.npy").data.at(0));
  const auto model = load_denoiser(dir + "/model.pt");
  EXPECT_NE(model->name().find("torchscript"), std::string::npos);
  const Image y = model->predict_clean(x, ab, &ref);
  EXPECT_LE(max_diff(y, expected), 1e-5f);
  // It plugs into the sampler like the built-in model.
  SamplerOptions so;
  so.strength = 0.3f;
  so.steps = 2;
  Image pixels = ref;
  for (float& v : pixels.pixels) v = 0.5f * (v + 1);
  const Image refined = refine_image(*model, pixels, nullptr, so);
  EXPECT_EQ(refined.width, x.width);
}

TEST(Denoiser, BadModelFiles) {
  const std::string dir = test::temp_dir("bad_prior");
  test::expect_bad_input([&] { load_denoiser(dir + "/missing.pt"); }, "no such model file");
  std::ofstream(dir + "/garbage.pt") << "not a model";
  test::expect_bad_input([&] { load_denoiser(dir + "/garbage.pt"); }, "neither");
  test::expect_bad_input([&] { UNetDenoiser::load(dir + "/garbage.pt"); }, "garbage.pt");
}

}  // namespace
}  // namespace sp::prior
