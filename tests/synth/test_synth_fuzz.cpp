// Mutation fuzzing of the text formats this module reads: pos_XXX.txt projection matrices
// (with the decomposition), SpaRe split files and scene files. Each must parse or throw
// BadInput, never crash or throw anything else.
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/io/spare.h"
#include "engine/synth/scene_file.h"
#include "support/fuzz.h"

namespace sp {
namespace {

void report(const char* what, const test::FuzzStats& s) {
  std::printf("[fuzz] %-22s %5zu calls: %5zu accepted, %5zu rejected, slowest %.4f s\n", what, s.calls, s.accepted,
              s.rejected, s.slowest_seconds);
}

TEST(SynthFuzz, ProjectionMatrix) {
  const std::string valid =
      "2607.429996 -3.844898 1498.178098 -533936.661373\n"
      "-192.076910 2862.552532 681.798177 23434.686572\n"
      "-0.241605 -0.029659 0.969923 22.540209\n";
  const auto s = test::fuzz_parser(
      valid, [](const std::string& b) { decompose_projection(parse_projection_matrix(b, "pos_001.txt"), "pos_001.txt"); },
      {.mutations = 800, .seed = 21});
  report("pos_XXX.txt", s);
  EXPECT_GT(s.rejected, 0u);
}

TEST(SynthFuzz, SplitJson) {
  const std::string valid =
      R"({"scan24": {"input_views": [25, 22, 28, 40, 44, 48, 0, 8, 13], "test_views": [1, 2, 9, 10, 11], "dataset": "DTU"}})";
  const auto s = test::fuzz_parser(valid, [](const std::string& b) { parse_spare_split(b, "split.json"); },
                                   {.mutations = 800, .seed = 22});
  report("split.json", s);
  EXPECT_GT(s.rejected, 0u);
}

TEST(SynthFuzz, SceneJson) {
  const std::string valid = R"({"name": "demo", "seed": 3, "image": {"width": 64, "height": 48, "supersampling": 3},
    "objects": [{"obj": "a.obj", "translate": [0.1, 0, 0], "rotate_deg": [0, 0, 20], "scale": [1, 2, 1]}],
    "platform": {"size": [2.6, 2.6], "thickness": 0.15, "color": [0.9, 0.9, 0.9]},
    "box": {"size": [10, 10, 6], "color": [0.02, 0.02, 0.02]}, "ambient": [0.05, 0.05, 0.05],
    "lights": [{"type": "point", "position": [1, 2, 3], "intensity": 20, "shadows": true},
               {"type": "directional", "direction": [0, 1, -1], "intensity": 0.3}],
    "lighting_setups": [{"rotate_deg": 10, "intensity": 1, "ambient": 1}], "default_lighting": 0,
    "rig": {"views": 12, "rows": 2, "radius": 3, "target": [0, 0, 0.3], "elevation_deg": [10, 50],
            "azimuth_deg": [-60, 60], "fov_x_deg": 30, "jitter_deg": 0.2},
    "split": {"input_views": [1, 2, 3], "test_views": [5, 6], "test_count": 2}, "points": 100})";
  const auto s = test::fuzz_parser(valid, [](const std::string& b) { synth::parse_scene(b, "scene.json", "/scenes"); },
                                   {.mutations = 800, .seed = 23});
  report("scene.json", s);
  EXPECT_GT(s.accepted, 0u);
  EXPECT_GT(s.rejected, 0u);
}

}  // namespace
}  // namespace sp
