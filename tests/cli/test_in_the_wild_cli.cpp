// Photos in the wild from the command line (docs/in_the_wild.md): recon with codes and the
// trimmed loss writes appearance.json, transient/ masks and the half-protocol scores; render
// fits a photo's code (--appearance-from) or takes a stored one (--appearance); bad input
// (an unreadable photo, a model without codes, a photo without a camera) is one line, exit 2;
// synth writes photos in the wild with their ground truth.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {

using sp::test::run_cli;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(InTheWildCli, CodesMasksHalvesAndRenderingInAPhotosLight) {
  const std::string scene = sp::test::temp_dir("wild-cli-scene");
  sp::test::write_synthetic_colmap_scene(scene, sp::test::small_ring_scene());
  const std::string out = sp::test::temp_dir("wild-cli-run");
  const auto r = run_cli("recon " + scene + " --train-views 4 --iterations 60 --init random --init-points 300 "
                         "--appearance on --robust-loss on --half-protocol -o " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto m = read_json(fs::path(out) / "metrics.json");
  EXPECT_EQ(m["appearance"], "on");
  EXPECT_EQ(m["robust_loss"], "on");
  ASSERT_TRUE(m.contains("halves")) << m.dump();
  EXPECT_GT(m["halves"]["fitted"]["psnr"].get<double>(), 10.0);
  const auto split = read_json(fs::path(out) / "split.json");
  const auto codes = read_json(fs::path(out) / "appearance.json");
  ASSERT_EQ(codes["codes"].size(), split["train_ids"].size());
  for (const auto& name : split["train_images"]) {
    fs::path png = fs::path(out) / "transient" / name.get<std::string>();
    png.replace_extension(".png");
    EXPECT_TRUE(fs::exists(png)) << png;
  }
  ASSERT_EQ(m["transient_share"].size(), split["train_ids"].size());

  // Every camera rendered in one train photo's light, fitted and stored.
  const std::string photo = scene + "/images/" + split["train_images"][0].get<std::string>();
  const auto fit = run_cli("render " + out + " --appearance-from " + photo + " -o " + out + "/fitted");
  ASSERT_EQ(fit.code, 0) << fit.output;
  EXPECT_NE(fit.output.find("appearance of"), std::string::npos) << fit.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(out + "/fitted"), fs::directory_iterator{}), 8);
  const auto stored =
      run_cli("render " + out + " --appearance " + split["train_images"][1].get<std::string>() + " -o " + out + "/stored");
  ASSERT_EQ(stored.code, 0) << stored.output;

  // Bad input.
  sp::test::expect_cli_bad_input("render " + out + " --appearance-from " + out + "/missing.png -o " + out + "/x1",
                                 "missing.png", out + "/x1");
  std::ofstream(out + "/garbage.png") << "not an image";
  sp::test::expect_cli_bad_input("render " + out + " --appearance-from " + out + "/garbage.png -o " + out + "/x2",
                                 "garbage.png", out + "/x2");
  fs::copy_file(photo, out + "/someone_else.png");
  sp::test::expect_cli_bad_input("render " + out + " --appearance-from " + out + "/someone_else.png -o " + out + "/x3",
                                 "no camera is named like this photo", out + "/x3");
  sp::test::expect_cli_bad_input("render " + out + " --appearance nobody.png -o " + out + "/x4", "nobody.png", out + "/x4");
  // A model trained without codes.
  const std::string plain = sp::test::temp_dir("wild-cli-plain");
  ASSERT_EQ(run_cli("recon " + scene + " --train-views 4 --iterations 5 --init random --init-points 100 -o " + plain).code, 0);
  const auto pm = read_json(fs::path(plain) / "metrics.json");
  EXPECT_EQ(pm["appearance"].get<std::string>().rfind("off (auto: ", 0), 0u) << pm["appearance"];
  EXPECT_FALSE(fs::exists(fs::path(plain) / "appearance.json"));
  EXPECT_FALSE(fs::exists(fs::path(plain) / "transient"));
  sp::test::expect_cli_bad_input("render " + plain + " --appearance-from " + photo + " -o " + plain + "/x5",
                                 "has no appearance codes", plain + "/x5");
  sp::test::expect_cli_bad_input("recon " + scene + " --appearance maybe -o " + plain + "/x6", "--appearance",
                                 plain + "/x6");
}

TEST(InTheWildCli, SynthWritesPhotosInTheWildWithTheirTruth) {
  const std::string dir = sp::test::temp_dir("wild-cli-synth");
  const auto s = run_cli("synth " + std::string(SPARSPLAT_SOURCE_DIR) +
                         "/scenes/demo.json --resolution 80 --views 12 --supersampling 1 --colour-spread 0.2 "
                         "--occluders 1 -o " + dir);
  ASSERT_EQ(s.code, 0) << s.output;
  const auto wild = read_json(fs::path(dir) / "demo_wild.json");
  const auto split = read_json(fs::path(dir) / "split.json");
  const auto& inputs = split["demo"]["input_views"];
  ASSERT_EQ(wild["views"].size(), inputs.size());
  for (const auto& v : wild["views"]) {
    EXPECT_EQ(v["code"].size(), 12u);
    EXPECT_GT(v["occluder_share"].get<double>(), 0.0);
    char name[16];
    std::snprintf(name, sizeof name, "%03d.png", v["view"].get<int>());
    EXPECT_TRUE(fs::exists(fs::path(dir) / "demo" / "transient" / name)) << name;
    EXPECT_TRUE(fs::exists(fs::path(dir) / "demo_colmap" / "transient" / name)) << name;
  }
  // The codes of the input views average to the identity (the gauge the training recovers).
  double mean_gain = 0;
  for (const auto& v : wild["views"]) mean_gain += v["code"][0].get<double>() / double(wild["views"].size());
  EXPECT_NEAR(mean_gain, 1.0, 1e-5);
  sp::test::expect_cli_bad_input("synth " + std::string(SPARSPLAT_SOURCE_DIR) + "/scenes/demo.json --occluders -1 -o " +
                                     dir + "/bad",
                                 "--occluders", dir + "/bad");
}

}  // namespace
