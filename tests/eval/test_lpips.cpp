// LPIPS (engine/eval/lpips.h) against an independent PyTorch implementation of the same
// network with random weights (tests/eval/lpips_reference.py, float64): |difference| <= 1e-5
// per pair and per tap. Plus the weights file's checks, the error without weights, and the
// SpaRe scores built on it (engine/eval/scores.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/eval/lpips.h"
#include "engine/eval/metrics.h"
#include "engine/eval/scores.h"
#include "engine/io/npy.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

Image image_from_npy(const std::string& path) {
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.ndim(), 3u);
  Image im(int(a.shape[1]), int(a.shape[0]), int(a.shape[2]));
  for (size_t i = 0; i < a.size(); ++i) im.pixels[i] = float(a.data[i]);
  return im;
}

Image random_image(int w, int h, uint64_t seed) {
  Rng rng(seed);
  Image im(w, h, 3);
  for (float& v : im.pixels) v = rng.uniform();
  return im;
}

TEST(Lpips, MatchesTheTorchReferenceWithRandomWeights) {
  const char* python = "/usr/bin/python3";
  if (!fs::exists(python)) GTEST_SKIP() << python << " not found";
  const std::string dir = test::temp_dir("lpips-reference");
  const std::string cmd = std::string(python) + " " + SPARSPLAT_SOURCE_DIR + "/tests/eval/lpips_reference.py " +
                          SPARSPLAT_SOURCE_DIR + " " + dir + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << "python3-torch or python3-numpy not installed (apt install python3-torch)";
  ASSERT_EQ(status, 0) << cmd;

  // The converter's key mapping gives the same file as writing the tensors directly.
  EXPECT_EQ(read_file(dir + "/weights.bin"), read_file(dir + "/converted.bin"));
  const Lpips lpips = Lpips::load(dir + "/weights.bin");
  const auto ref = nlohmann::json::parse(read_file(dir + "/reference.json"));
  ASSERT_EQ(ref["pairs"].size(), 4u);
  for (const auto& pair : ref["pairs"]) {
    const std::string name = pair["name"];
    const Image a = image_from_npy(dir + "/" + name + "_a.npy"), b = image_from_npy(dir + "/" + name + "_b.npy");
    const auto taps = lpips.tap_distances(a, b);
    double sum = 0;
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_NEAR(taps[k], double(pair["taps"][k]), 1e-5) << name << " tap " << k + 1;
      sum += taps[k];
    }
    EXPECT_NEAR(sum, double(pair["lpips"]), 1e-5) << name;
    EXPECT_NEAR(lpips.distance(a, b), sum, 1e-12) << name;
  }
}

TEST(Lpips, WeightsFileRoundTripsAndBadFilesAreRefused) {
  const std::string dir = test::temp_dir("lpips-file");
  const LpipsWeights w = random_lpips_weights(3);
  write_lpips_weights(dir + "/w.bin", w);
  const LpipsWeights back = read_lpips_weights(dir + "/w.bin");
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(back.conv[k].weight, w.conv[k].weight);
    EXPECT_EQ(back.conv[k].bias, w.conv[k].bias);
    EXPECT_EQ(back.lin[k], w.lin[k]);
  }
  const std::string bytes = read_file(dir + "/w.bin");
  write_text_atomic(dir + "/truncated.bin", bytes.substr(0, bytes.size() - 5));
  test::expect_bad_input([&] { (void)read_lpips_weights(dir + "/truncated.bin"); }, "truncated");
  write_text_atomic(dir + "/long.bin", bytes + "x");
  test::expect_bad_input([&] { (void)read_lpips_weights(dir + "/long.bin"); }, "after the last tensor");
  write_text_atomic(dir + "/magic.bin", "PK\x03\x04" + bytes.substr(4));
  test::expect_bad_input([&] { (void)read_lpips_weights(dir + "/magic.bin"); }, "convert_lpips.py");
  std::string renamed = bytes;
  renamed.replace(renamed.find("conv2.weight"), 5, "convX");
  write_text_atomic(dir + "/name.bin", renamed);
  test::expect_bad_input([&] { (void)read_lpips_weights(dir + "/name.bin"); }, "expected 'conv2.weight'");
  // No weights at all: one clear line naming the converter and the option.
  test::expect_bad_input([] { (void)Lpips::load(""); }, "scripts/convert_lpips.py");
  test::expect_bad_input([&] { (void)Lpips::load(dir + "/missing.bin"); }, "no such file");
}

TEST(Lpips, DistanceBasicsAndSizeLimits) {
  const Lpips lpips(random_lpips_weights(5));
  const Image a = random_image(40, 33, 1), b = random_image(40, 33, 2);
  EXPECT_EQ(lpips.distance(a, a), 0.0);
  const double d = lpips.distance(a, b);
  EXPECT_GT(d, 0.0);
  EXPECT_DOUBLE_EQ(d, lpips.distance(b, a));
  test::expect_bad_input([&] { (void)lpips.distance(random_image(30, 40, 1), random_image(30, 40, 2)); }, "31x31");
  test::expect_bad_input([&] { (void)lpips.distance(a, random_image(41, 33, 1)); }, "sizes differ");
}

TEST(SpareScores, BoxScoresCropToTheMaskAndTheRestIsScoreView) {
  const Lpips lpips(random_lpips_weights(9));
  const int w = 96, h = 72;
  const Image gt = random_image(w, h, 21);
  Image render = gt;
  for (size_t i = 0; i < render.pixels.size(); i += 7) render.pixels[i] = 1.0f - render.pixels[i];
  Image mask(w, h, 1);
  for (int y = 20; y < 50; ++y)
    for (int x = 30; x < 70; ++x) mask.at(x, y, 0) = 1.0f;
  const ViewScore s = score_view_spare("v.png", render, gt, mask, &lpips);
  const ViewScore plain = score_view("v.png", render, gt, mask);
  EXPECT_EQ(s.psnr, plain.psnr);
  EXPECT_EQ(s.ssim, plain.ssim);
  EXPECT_EQ(s.masked_psnr, plain.masked_psnr);
  EXPECT_EQ(s.masked_ssim, plain.masked_ssim);
  const PixelBox box = mask_bounding_box(mask);
  EXPECT_EQ(box.x0, 30);
  EXPECT_EQ(box.x1, 70);
  EXPECT_EQ(box.y0, 20);
  EXPECT_EQ(box.y1, 50);
  EXPECT_EQ(s.box_ssim, ssim(crop(render, box), crop(gt, box)));
  // The box is 40 x 30: LPIPS-M grows it to 31 rows about its centre.
  const PixelBox wide = mask_bounding_box(mask, Lpips::kMinSide);
  EXPECT_EQ(wide.height(), 31);
  EXPECT_EQ(wide.width(), 40);
  EXPECT_EQ(s.box_lpips, lpips.distance(crop(render, wide), crop(gt, wide)));
  EXPECT_EQ(s.lpips, lpips.distance(render, gt));
  // Without LPIPS weights or a mask, those scores are absent, not zero.
  const ViewScore no_lpips = score_view_spare("v.png", render, gt, mask, nullptr);
  EXPECT_LT(no_lpips.lpips, 0);
  EXPECT_LT(no_lpips.box_lpips, 0);
  EXPECT_EQ(no_lpips.box_ssim, s.box_ssim);
  const ViewScore no_mask = score_view_spare("v.png", render, gt, Image(), &lpips);
  EXPECT_LT(no_mask.box_ssim, 0);
  EXPECT_LT(no_mask.masked_psnr, 0);
  const Scores sum = summarize({s, no_mask});
  EXPECT_DOUBLE_EQ(sum.mean_box_ssim, s.box_ssim);
  EXPECT_DOUBLE_EQ(sum.mean_lpips, (s.lpips + no_mask.lpips) / 2);
  const std::string table = spare_scores_table(sum);
  EXPECT_NE(table.find("LPIPS-M"), std::string::npos);
  EXPECT_NE(table.find("       -"), std::string::npos);  // no_mask's masked cells
  // A box at the border grows inward.
  Image corner(w, h, 1);
  corner.at(0, 0, 0) = 1.0f;
  const PixelBox c = mask_bounding_box(corner, 11);
  EXPECT_EQ(c.x0, 0);
  EXPECT_EQ(c.x1, 11);
  EXPECT_EQ(c.y1, 11);
  EXPECT_TRUE(mask_bounding_box(Image(w, h, 1)).empty());
}

}  // namespace
}  // namespace sp
