// sparsplat synth: render a synthetic DTU/SpaRe-style scene (scenes/*.json) into the
// benchmark's layouts. See engine/synth/generator.h and scenes/README.md.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/parallel.h"
#include "engine/core/progress.h"
#include "engine/synth/generator.h"
#include "engine/synth/scene_file.h"
#include "tools/sparsplat/commands.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {

// "WxH" or "W" (height then keeps the scene's aspect ratio).
void parse_resolution(const std::string& text, int& width, int& height) {
  width = height = 0;
  if (text.empty()) return;
  const auto number = [&](std::string_view s) {
    int v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < 8 || v > 16384)
      throw_bad_input("--resolution", "expected WIDTHxHEIGHT or WIDTH with sides of 8..16384 pixels, found '" + text + "'");
    return v;
  };
  const size_t x = text.find_first_of("xX");
  if (x == std::string::npos) {
    width = number(text);
  } else {
    width = number(std::string_view(text).substr(0, x));
    height = number(std::string_view(text).substr(x + 1));
  }
}

}  // namespace

int run_synth(const SynthArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  if (args.output.empty()) throw_bad_input("--output", "is empty");
  if (fs::exists(args.output) && !fs::is_directory(args.output)) throw_bad_input(args.output, "exists and is not a folder");
  synth::SynthOptions o;
  parse_resolution(args.resolution, o.width, o.height);
  o.views = args.views;
  o.lighting = args.lighting;
  o.seed = args.seed;
  o.supersampling = args.supersampling;
  if (!(args.colour_spread >= 0.0f && args.colour_spread <= 1.0f)) throw_bad_input("--colour-spread", "must lie in [0, 1]");
  if (args.occluders < 0) throw_bad_input("--occluders", "must be >= 0");
  o.wild.colour_spread = args.colour_spread;
  o.wild.occluders = args.occluders;
  if (args.layout == "spare") o.colmap = false;
  else if (args.layout == "colmap") o.spare = false;
  else if (args.layout != "all") throw_bad_input("--layout", "expected spare, colmap or all, found '" + args.layout + "'");

  synth::SceneDesc desc = synth::read_scene(args.scene);
  if (args.arrangement >= 0) desc = synth::arrange_scene(std::move(desc), uint64_t(args.arrangement));
  const synth::SceneDesc scene = synth::apply_options(std::move(desc), o);
  log_info("synth: scene '" + scene.name + "': " + std::to_string(scene.objects.size()) + " objects, " +
           std::to_string(scene.rig.views) + " views at " + std::to_string(scene.width) + "x" +
           std::to_string(scene.height) + " (" + std::to_string(scene.supersampling) + "x" +
           std::to_string(scene.supersampling) + " samples per pixel), lighting " +
           std::to_string(scene.default_lighting) + ", seed " + std::to_string(scene.seed) + ", " +
           std::to_string(thread_count()) + " threads");
  ProgressLine progress("synth", scene.rig.views);
  const auto result = synth::generate_dataset(scene, o, args.output, [&](int done, int total) {
    progress.update(done, std::to_string(done) + "/" + std::to_string(total) + " views");
  });
  progress.finish(std::to_string(result.cameras.size()) + " views");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const auto list = [](const std::vector<int>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(v[i]);
    }
    return s;
  };
  std::printf("scene      %s (%d views, %dx%d, lighting %d, seed %llu)\n", scene.name.c_str(), scene.rig.views,
              scene.width, scene.height, result.lighting, static_cast<unsigned long long>(scene.seed));
  if (!result.spare_dir.empty())
    std::printf("spare      %s  (split %s)\n", result.spare_dir.c_str(), result.split_file.c_str());
  if (!result.colmap_dir.empty())
    std::printf("colmap     %s  (%zu points)\n", result.colmap_dir.c_str(), result.points);
  std::printf("input      %s\n", list(result.split.input_views).c_str());
  std::printf("test       %s\n", list(result.split.test_views).c_str());
  std::printf("time       %.1f s\n", seconds);
  if (!result.spare_dir.empty())
    std::printf("next       sparsplat recon %s --train-views 3 -o out/%s\n", result.spare_dir.c_str(), scene.name.c_str());
  return 0;
}

}  // namespace sp::cli
