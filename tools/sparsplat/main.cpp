// sparsplat: sparse-view Gaussian splatting from the command line.
// Exit codes: 0 success, 1 internal failure, 2 bad input (files, options).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/parallel.h"
#include "tools/sparsplat/commands.h"

namespace {

void add_dataset_options(CLI::App* app, sp::cli::DatasetArgs& d, bool positional = true) {
  if (positional) app->add_option("dataset", d.path, "Dataset folder (COLMAP, LLFF, Blender transforms)")->required();
  app->add_option("--downscale", d.downscale, "Divide image sizes by N (LLFF: uses images_N/ when present)")
      ->check(CLI::Range(1, 64));
  app->add_option("--resolution", d.resolution, "Longest image side in pixels")->check(CLI::Range(16, 16384));
  app->add_option("--train-views", d.train_views,
                  "Number of train views, chosen by the dataset's sparse-view protocol (0 = all non-test views)")
      ->check(CLI::Range(0, 100000));
  app->add_option("--train-ids", d.train_ids, "Explicit train view indices (overrides --train-views)")->delimiter(',');
  app->add_option("--test-ids", d.test_ids, "Explicit test view indices")->delimiter(',');
  app->add_flag("--black-background", d.black_background_for_rgba,
                "Composite transparent (RGBA) images on black instead of white");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sparsplat: 3D Gaussian Splatting from a handful of posed photos"};
  app.require_subcommand(1);
  int threads = 0;
  bool quiet = false, verbose = false;
  app.add_option("--threads", threads, "Worker threads (0 = all cores)");
  app.add_flag("-q,--quiet", quiet, "Only errors");
  app.add_flag("-v,--verbose", verbose, "Debug messages");

  sp::cli::ReconArgs recon;
  auto* r = app.add_subcommand("recon", "Reconstruct a scene: train Gaussians, render and evaluate the test views");
  add_dataset_options(r, recon.data);
  r->add_option("-o,--output", recon.output, "Output folder")->required();
  r->add_option("--iterations", recon.iterations, "Training iterations")->capture_default_str()->check(CLI::Range(0L, 10000000L));
  r->add_option("--seed", recon.seed, "Random seed")->capture_default_str();
  r->add_option("--init", recon.init, "Initial Gaussians: sfm, random, or auto (sfm when usable points exist)")
      ->check(CLI::IsMember({"auto", "sfm", "random"}))
      ->capture_default_str();
  r->add_option("--init-points", recon.init_points, "Number of random initial Gaussians")->capture_default_str()
      ->check(CLI::Range(size_t(1), size_t(100000000)));
  r->add_option("--sh-degree", recon.sh_degree, "Maximum SH degree")->check(CLI::Range(0, 3))->capture_default_str();
  r->add_option("--background", recon.background,
                "Background colour r,g,b in [0,1] (default: black; white for transparent Blender images)")->delimiter(',')->expected(3);
  r->add_flag("--random-background", recon.random_background, "Random background colour every iteration");
  r->add_option("--checkpoint-every", recon.checkpoint_interval, "Write a checkpoint every N iterations (0 = only at the end)")
      ->check(CLI::Range(0L, 10000000L));
  r->add_option("--resume", recon.resume, "Continue from a checkpoint file");
  r->add_option("--max-gaussians", recon.max_gaussians, "Stop densifying beyond this many Gaussians (0 = no cap)");
  r->add_flag("--no-densify", recon.no_densify, "Keep the initial Gaussians: no clone/split/prune, no opacity reset");
  r->add_flag("--no-test-renders", recon.skip_test_renders, "Skip rendering and evaluating the test views");

  sp::cli::RenderArgs render;
  auto* rd = app.add_subcommand("render", "Render a PLY model from cameras.json or from a dataset's cameras");
  rd->add_option("model", render.model, "Gaussian PLY (INRIA layout)")->required();
  rd->add_option("--cameras", render.cameras, "INRIA cameras.json");
  rd->add_option("--dataset", render.data.path, "Dataset whose cameras to render");
  add_dataset_options(rd, render.data, false);
  rd->add_option("--split", render.split, "With --dataset: test, train or all")
      ->check(CLI::IsMember({"test", "train", "all"}))
      ->capture_default_str();
  rd->add_option("-o,--output", render.output, "Output folder for PNGs")->required();
  rd->add_option("--background", render.background, "Background colour r,g,b in [0,1]")->delimiter(',')->expected(3);
  rd->add_option("--sh-degree", render.sh_degree, "SH degree to render with (default: the model's)")->check(CLI::Range(0, 3));

  sp::cli::EvalArgs eval;
  auto* ev = app.add_subcommand("eval", "PSNR/SSIM of renders against ground truth (matching file names)");
  ev->add_option("inputs", eval.inputs, "A recon output folder, or RENDERS_DIR GT_DIR")->required()->expected(1, 2);
  ev->add_option("-o,--output", eval.output, "Write metrics JSON here");

  sp::cli::InfoArgs info;
  auto* in = app.add_subcommand("info", "Summarize a dataset folder or a Gaussian PLY");
  in->add_option("path", info.path, "Dataset folder or .ply file")->required();
  add_dataset_options(in, info.data, false);

  sp::cli::SynthArgs synth;
  auto* sy = app.add_subcommand("synth", "Render a synthetic DTU/SpaRe-style scene (scenes/*.json) into SpaRe and COLMAP layouts");
  sy->add_option("scene", synth.scene, "Scene JSON (see scenes/README.md)")->required();
  sy->add_option("-o,--output", synth.output, "Output folder")->required();
  sy->add_option("--resolution", synth.resolution, "Image size WxH, or a width keeping the scene's aspect (default: the scene's)");
  sy->add_option("--views", synth.views, "Number of rig cameras (default: the scene's)")->check(CLI::Range(1, 10000));
  sy->add_option("--lighting", synth.lighting, "Lighting set-up index L (default: the scene's, 3)")->check(CLI::Range(0, 1000));
  sy->add_option("--seed", synth.seed, "Random seed (default: the scene's)")->check(CLI::Range(int64_t(0), int64_t(9007199254740992)));
  sy->add_option("--supersampling", synth.supersampling, "n x n samples per pixel, n odd (default: the scene's, 3)")
      ->check(CLI::Range(1, 9));
  sy->add_option("--layout", synth.layout, "Which layouts to write: spare, colmap or all")
      ->check(CLI::IsMember({"spare", "colmap", "all"}))
      ->capture_default_str();

  // CLI11 would only say "a subcommand is required" for a mistyped one; name it instead.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads") {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    const auto subs = app.get_subcommands([&](const CLI::App* a) { return a->get_name() == arg; });
    if (subs.empty()) {
      std::fprintf(stderr, "error: unknown command '%s' (expected recon, render, eval, info or synth; see --help)\n", arg.c_str());
      return 2;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit 2 (bad input), as for any other bad input.
    std::fprintf(stderr, "error: %s (see %s --help)\n", e.what(), argv[0]);
    return 2;
  }

  sp::set_log_level(quiet ? sp::LogLevel::Quiet : verbose ? sp::LogLevel::Debug : sp::LogLevel::Info);
  sp::set_thread_count(threads);
  try {
    if (*r) return sp::cli::run_recon(recon);
    if (*rd) return sp::cli::run_render(render);
    if (*ev) return sp::cli::run_eval(eval);
    if (*sy) return sp::cli::run_synth(synth);
    if (*in) {
      info.data.path = info.path;
      return sp::cli::run_info(info);
    }
  } catch (const sp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.kind() == sp::ErrorKind::BadInput ? 2 : 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal failure: %s\n", e.what());
    return 1;
  }
  return 1;
}
