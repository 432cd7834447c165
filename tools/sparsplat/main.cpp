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
#include "tools/sparsplat/completion.h"
#include "tools/sparsplat/option_file.h"

namespace {

void add_dataset_options(CLI::App* app, sp::cli::DatasetArgs& d, bool positional = true) {
  if (positional) app->add_option("dataset", d.path, "Dataset folder (COLMAP, LLFF, Blender transforms)")->required();
  app->add_option("--downscale", d.downscale, "Train at 1/N of the capture size the dataset records (uses images_N/ when present; smaller files are not enlarged)")
      ->check(CLI::Range(1, 64));
  app->add_option("--resolution", d.resolution, "Longest image side in pixels")->check(CLI::Range(16, 16384));
  app->add_option("--train-views", d.train_views,
                  "Number of train views, chosen by the dataset's sparse-view protocol (0 = all non-test views)")
      ->check(CLI::Range(0, 100000));
  app->add_option("--train-ids", d.train_ids, "Explicit train view indices (overrides --train-views)")->delimiter(',');
  app->add_option("--test-ids", d.test_ids, "Explicit test view indices")->delimiter(',');
  app->add_flag("--black-background", d.black_background_for_rgba,
                "Composite transparent (RGBA) images on black instead of white");
  app->add_option("--protocol", d.protocol,
                  "Sparse-view protocol: auto (the format's own split), llff (every 8th view tests, 1/8 size), "
                  "dtu (train 25, 22, 28..., 1/4 size, masked metrics) or blender (8 ids, 1/2 size)")
      ->check(CLI::IsMember({"auto", "llff", "dtu", "blender"}))
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sparsplat: 3D Gaussian Splatting from a handful of posed photos"};
  // Every option's --help line shows its default (subcommands inherit this).
  app.option_defaults()->always_capture_default();
  app.require_subcommand(1);
  // Root's options (--threads, -q, -v, --config) may also follow the subcommand: `recon
  // --config FILE`. Subcommands inherit this, so it is set before they are added.
  app.fallthrough();
  int threads = 0;
  bool quiet = false, verbose = false;
  app.add_option("--threads", threads, "Worker threads (0 = all cores)");
  app.add_flag("-q,--quiet", quiet, "Only errors");
  app.add_flag("-v,--verbose", verbose, "Debug messages");

  sp::cli::ReconArgs recon;
  bool skip_test_renders = false, no_densify = false;  // negated into recon.config
  auto* r = app.add_subcommand("recon", "Reconstruct a scene: train Gaussians, render and evaluate the test views");
  add_dataset_options(r, recon.data);
  r->add_option("-o,--output", recon.config.output, "Output folder")->required();
  r->add_option("--iterations", recon.config.iterations,
                "Training iterations (default 3000; 1000 with the sparse-view preset, <= 9 train views)")
      ->check(CLI::Range(0L, 10000000L));
  r->add_flag("--early-stop", recon.config.early_stop.enabled,
              "Stop before --iterations once the train loss flattens after densification (docs/training.md \"Early stop\")");
  r->add_option("--early-stop-window", recon.config.early_stop.window, "Iterations per averaged loss window")
      ->check(CLI::Range(1L, 1000000L))->capture_default_str();
  r->add_option("--early-stop-tolerance", recon.config.early_stop.tolerance,
                "A window must improve on the best earlier one by this share (0.01 = 1%)")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--early-stop-patience", recon.config.early_stop.patience, "Windows in a row without that gain")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  r->add_option("--seed", recon.config.seed, "Random seed")->capture_default_str();
  r->add_option("--init", recon.config.init.method,
                "Initial Gaussians: sfm, random, mvs (plane-sweep stereo over the train views), or auto "
                "(sfm when >= 1000 SfM points are seen by the train views, else mvs for 2..9 train views, "
                "else sfm when usable points exist, else random)")
      ->check(CLI::IsMember({"auto", "sfm", "random", "mvs"}))
      ->capture_default_str();
  r->add_option("--init-points", recon.config.init.gaussians.random_points, "Number of random initial Gaussians")->capture_default_str()
      ->check(CLI::Range(size_t(1), size_t(100000000)));
  r->add_option("--sh-degree", recon.config.sh_degree, "Maximum SH degree")->check(CLI::Range(0, 3))->capture_default_str();
  r->add_option("--background", recon.background,
                "Background colour r,g,b in [0,1] (default: black; white for transparent Blender images)")->delimiter(',')->expected(3);
  bool random_background = false, no_random_background = false;  // into recon.config.regularizers
  r->add_flag("--random-background", random_background,
              "Random background colour every iteration (default: the sparse-view preset's)");
  r->add_flag("--no-random-background", no_random_background, "The fixed background every iteration");
  r->add_option("--checkpoint-every,--checkpoint-interval", recon.config.checkpoint_interval,
                "Write a checkpoint every N iterations (0 = only at the end, and on SIGINT/SIGTERM)")
      ->check(CLI::Range(0L, 10000000L));
  r->add_option("--resume", recon.config.resume,
                "Continue from a checkpoint file, or auto: from OUTPUT/checkpoints/last.bin when it exists (the same "
                "run, stopped or killed), else start fresh");
  r->add_option("--max-gaussians", recon.config.max_gaussians, "Stop densifying beyond this many Gaussians (0 = no cap)");
  r->add_option("--max-memory", recon.max_memory,
                "Memory for decoded images and Gaussians, e.g. 8G or 512M: at most half for the images, the "
                "Gaussian cap from the rest; a dataset that cannot fit is refused before training");
  r->add_flag("--no-densify", no_densify, "Keep the initial Gaussians: no clone/split/prune, no opacity reset");
  r->add_option("--language", recon.config.language.features, "LangSplat language_features/ folder: train a language field on the result (docs/language.md)");
  r->add_option("--language-iterations", recon.config.language.iterations, "Language-field iterations")->check(CLI::Range(1L, 100000000L))->capture_default_str();
  // Sparse-view regularizers (docs/sparse_view.md "Regularizers"): defaults from the preset
  // for <= 9 train views; each can be set on its own.
  auto& rg = recon.config.regularizers;
  r->add_option("--regularizers", rg.preset, "Sparse-view regularizer preset: auto (on for <= 9 train views) or off")
      ->check(CLI::IsMember({"auto", "off"}))->capture_default_str();
  r->add_option("--co-training", rg.co_training, "Two co-regularized fields (CoR-GS; on in the sparse preset): auto, on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
  r->add_option("--unpooling", rg.unpooling, "FSGS proximity-guided unpooling: auto, on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
  r->add_option("--pseudo-views", rg.pseudo_views, "Pseudo poses between train cameras (0 = none; default: preset)")
      ->check(CLI::Range(0, 100000));
  r->add_option("--co-regularization", rg.co_regularization, "Weight of the two fields' disagreement at pseudo views")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--opacity-entropy", rg.opacity_entropy, "Weight of the opacity entropy term")->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--scale-penalty", rg.scale_penalty, "Weight of the penalty on scales beyond 5% of the extent")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--anisotropy-penalty", rg.anisotropy_penalty, "Weight of the penalty on scale ratios beyond 10")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--depth-smoothness", rg.depth_smoothness, "Weight of the edge-aware depth smoothness (preset: 1 on rigs around an object, else 0)")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--pseudo-tilt", rg.pseudo_tilt,
                "Tilt pseudo views above/below the rig's arc by up to this x the train cameras' spacing (0 = between them only)")
      ->check(CLI::Range(0.0f, 100.0f));
  r->add_option("--depth-curvature", rg.depth_curvature,
                "Weight of the edge-aware depth curvature (textureless surfaces pulled planar)")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--max-angular-scale", rg.max_angular_scale,
                "Cap Gaussian scales at this x the distance to the nearest train camera (0 = off; preset: 0.03 on rigs around an object)")
      ->check(CLI::Range(0.0f, 10.0f));
  r->add_option("--backdrop-alpha", rg.backdrop_alpha,
                "Dark backdrop (DTU-style rigs): its pixels leave the loss and their alpha is pulled to 0 with this "
                "weight (0 = off; default: preset)")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--opacity-decay", rg.opacity_decay,
                "Multiply opacities by this every iteration instead of resetting them (Binocular3DGS; 0 = off)")
      ->check(CLI::Range(0.0f, 0.999999f));
  r->add_option("--depth-prior", rg.depth_prior,
                "Weight of the plane-sweep depth prior on the train views (needs the mvs start; 0 = off)")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--binocular", rg.binocular,
                "Weight of Binocular3DGS's consistency term (a sideways-shifted render warped back with the rendered "
                "depth; 0 = off)")
      ->check(CLI::Range(0.0f, 1e6f));
  r->add_option("--binocular-from", rg.binocular_from, "Binocular term from this fraction of the run on")
      ->check(CLI::Range(0.0f, 1.0f));
  r->add_option("--binocular-shift", rg.binocular_shift,
                "Binocular shift: up to this x the train cameras' mean nearest-neighbour distance")
      ->check(CLI::Range(0.0f, 10.0f));
  r->add_option("--binocular-every", rg.binocular_every,
                "Shifted render on one iteration in this many, its weight times the same (default: preset)")
      ->check(CLI::Range(1, 1000));
  r->add_option("--pseudo-every", rg.pseudo_every,
                "Pseudo view on one iteration in this many, its terms weighted times the same (default: preset)")
      ->check(CLI::Range(1, 1000));
  r->add_option("--pseudo-resolution", rg.pseudo_resolution,
                "Pseudo views rendered at this fraction of the train size (default 0.5)")
      ->check(CLI::Range(0.05f, 1.0f));
  r->add_option("--start-box", rg.start_box_margin,
                "Prune Gaussians outside the start's box (1st-99th percentile of the initial centres) widened by this "
                "fraction per side (0 = off)")
      ->check(CLI::Range(0.0f, 100.0f));
  r->add_option("--min-views-seen", rg.min_views_seen,
                "Prune Gaussians fewer than this many train views see, at each densification (0 = off)")
      ->check(CLI::Range(0, 255));
  r->add_option("--init-min-views", recon.config.init.gaussians.min_views,
                "Keep start points that at least this many train views see (1 = any)")
      ->check(CLI::Range(1, 255));
  r->add_option("--densify-grad-threshold", rg.densify_grad_threshold,
                "View-space gradient threshold for clone/split (INRIA 2e-4; sparse preset 1e-3)")
      ->check(CLI::Range(1e-9f, 1.0f));
  // Photos in the wild (docs/in_the_wild.md).
  r->add_option("--appearance", recon.config.wild.appearance,
                "Per-photo affine colour codes: off, on, or auto (on when the train photos' exposure or white balance "
                "differs on the same surfaces by more than 0.3 / 0.2 in log units)")
      ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
  r->add_option("--robust-loss", recon.config.wild.robust_loss,
                "Trimmed photometric loss that leaves transient occluders out (RobustNeRF): off or on; writes "
                "OUTPUT/transient/")
      ->check(CLI::IsMember({"on", "off"}))->capture_default_str();
  r->add_flag("--half-protocol", recon.config.wild.half_protocol,
              "Also score each test view's right half after fitting its colour code on the left half (PhotoTourism)");
  r->add_flag("--no-test-renders", skip_test_renders, "Skip rendering and evaluating the test views");
  r->add_option("--device", recon.config.device,
                "Train on: auto (CUDA when present and the run needs nothing it lacks, else CPU), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  // Diffusion-prior refinement (docs/prior.md); needs a build with libtorch.
  auto& pr = recon.config.prior;
  r->add_option("--prior", pr.model, "Diffusion prior: train-prior's prior.pt or a TorchScript model (off when absent)");
  r->add_option("--prior-start", pr.start, "First refinement round at this iteration (default: half of --iterations)");
  r->add_option("--prior-every", pr.every, "Refinement round every N iterations (default: a quarter of --iterations)");
  r->add_option("--prior-views", pr.views, "Pseudo views per round")->check(CLI::Range(1, 1000))->capture_default_str();
  r->add_option("--prior-targets", pr.targets, "Pseudo poses: interpolated (between train cameras), test (toward the test poses) or auto (test when the dataset has test views)")
      ->check(CLI::IsMember({"auto", "interpolated", "test"}))->capture_default_str();
  r->add_option("--prior-pose-fraction", pr.pose_fraction, "With --prior-targets test: fraction of the way moved per round")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--prior-probability", pr.sample_probability, "Chance a step trains on a pseudo view")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--prior-weight", pr.loss_weight, "Loss weight of pseudo views")->check(CLI::Range(0.0f, 100.0f))->capture_default_str();
  r->add_option("--prior-alpha", pr.alpha_threshold, "Supervise pseudo-view pixels whose render alpha is at least this")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--prior-strength", pr.strength_start, "SDEdit strength of the first round")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--prior-strength-end", pr.strength_end, "SDEdit strength at the last iteration")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--prior-steps", pr.steps, "DDIM steps per refinement")->check(CLI::Range(1, 1000))->capture_default_str();
  r->add_flag("--prior-one-step,!--prior-ddim", pr.one_step,
              "One network call per refinement (a one-step fixer; default) or DDIM with --prior-steps")
      ->default_str(pr.one_step ? "true" : "false");  // CLI11 keeps no flag defaults; config.json needs this one
  r->add_option("--prior-cache", pr.cache_threshold, "Reuse the last DDIM step's prediction below this relative input change (0 = off)")
      ->check(CLI::Range(0.0f, 10.0f))->capture_default_str();
  r->add_option("--prior-samples", pr.samples, "Refinements averaged per pseudo view (less residual noise)")
      ->check(CLI::Range(1, 64))->capture_default_str();
  r->add_option("--prior-min-change", pr.min_change, "Leave pseudo-view pixels the prior changed by less than this unsupervised (0 = off)")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  r->add_option("--prior-final-pass", pr.final_pass, "Also refine the test renders in 2D at this strength (0 = off)")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();

  sp::cli::TrainPriorArgs tp;
  auto* tpc = app.add_subcommand("train-prior", "Train the built-in diffusion prior on sparse-view renders of synthetic scenes (needs libtorch)");
  tpc->add_option("scene", tp.scene, "Base scene JSON (e.g. scenes/demo.json); objects are re-placed per seed")->required();
  tpc->add_option("-o,--output", tp.output, "Output folder (prior.pt, checkpoint.pt, pairs/, scenes/)")->required();
  tpc->add_option("--scenes", tp.scenes, "Number of training scenes")->check(CLI::Range(1, 100000))->capture_default_str();
  tpc->add_option("--seed-base", tp.seed_base, "Scene seeds are seed-base .. seed-base + scenes - 1")->capture_default_str();
  tpc->add_option("--width", tp.width, "Image width")->check(CLI::Range(16, 4096))->capture_default_str();
  tpc->add_option("--height", tp.height, "Image height")->check(CLI::Range(16, 4096))->capture_default_str();
  tpc->add_option("--views", tp.views, "Rig views per scene")->check(CLI::Range(13, 1000))->capture_default_str();
  tpc->add_option("--recon-iterations", tp.recon_iterations, "3-view reconstruction iterations per scene")
      ->check(CLI::Range(1L, 1000000L))->capture_default_str();
  tpc->add_option("--steps", tp.steps, "Network training steps")->check(CLI::Range(0L, 100000000L))->capture_default_str();
  tpc->add_option("--batch", tp.batch, "Batch size")->check(CLI::Range(1, 1024))->capture_default_str();
  tpc->add_option("--crop", tp.crop, "Square training crop in pixels")->check(CLI::Range(8, 4096))->capture_default_str();
  tpc->add_option("--lr", tp.learning_rate, "Adam learning rate")->check(CLI::Range(1e-7f, 1.0f))->capture_default_str();
  tpc->add_option("--channels", tp.base_channels, "UNet channels at full resolution")->check(CLI::Range(4, 512))->capture_default_str();
  tpc->add_option("--levels", tp.levels, "UNet resolutions")->check(CLI::Range(1, 6))->capture_default_str();
  tpc->add_option("--checkpoint-every", tp.checkpoint_every, "Checkpoint every N steps (0 = only at the end)")
      ->check(CLI::Range(0L, 100000000L))->capture_default_str();
  tpc->add_option("--time-limit", tp.time_limit_seconds, "Stop training after this many seconds (0 = none)")
      ->check(CLI::Range(0.0, 1e9));
  tpc->add_flag("--resume", tp.resume, "Continue from <output>/checkpoint.pt (pairs already made are reused)");
  tpc->add_flag("--scenes-only", tp.scenes_only, "Only generate the scenes (e.g. held-out evaluation scenes) into <output>/scenes");
  tpc->add_option("--evaluate", tp.evaluate, "Score MODEL on the scenes' pairs (render vs refined render) instead of training");
  tpc->add_option("--strength", tp.strength, "With --evaluate: SDEdit strength")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  tpc->add_option("--ddim-steps", tp.ddim_steps, "With --evaluate: DDIM steps")->check(CLI::Range(1, 1000))->capture_default_str();
  tpc->add_flag("--one-step", tp.one_step, "With --evaluate: one network call");
  tpc->add_option("--cache", tp.cache_threshold, "With --evaluate: DDIM step-cache threshold (0 = off)")
      ->check(CLI::Range(0.0f, 10.0f))->capture_default_str();
  tpc->add_option("--samples", tp.samples, "With --evaluate: refinements averaged per view")
      ->check(CLI::Range(1, 64))->capture_default_str();

  sp::cli::RenderArgs render;
  auto* rd = app.add_subcommand("render", "Render a Gaussian model from cameras.json or from a dataset's cameras");
  rd->add_option("model", render.model,
                 "Gaussian model (.ply, .compressed.ply, .spz, .splat), or a recon output folder (its point_cloud.ply, "
                 "and its cameras.json unless --cameras or --dataset is given)")
      ->required();
  rd->add_option("--cameras", render.cameras, "INRIA cameras.json");
  rd->add_option("--dataset", render.data.path, "Dataset whose cameras to render");
  add_dataset_options(rd, render.data, false);
  rd->add_option("--split", render.split, "With --dataset: test, train or all")
      ->check(CLI::IsMember({"test", "train", "all"}))
      ->capture_default_str();
  rd->add_option("-o,--output", render.output, "Output folder for PNGs")->required();
  rd->add_option("--background", render.background, "Background colour r,g,b in [0,1]")->delimiter(',')->expected(3);
  rd->add_option("--sh-degree", render.sh_degree, "SH degree to render with (default: the model's)")->check(CLI::Range(0, 3));
  rd->add_option("--appearance-from", render.appearance_from,
                 "Render every view in this photo's light: its colour code is fitted with the geometry frozen (the "
                 "photo must be named like one of the cameras; needs a model trained with --appearance)");
  rd->add_option("--appearance", render.appearance,
                 "Render every view with the stored colour code of this train image (needs --appearance codes)");
  std::string render_backend;  // --backend: the older name of --device (cpu | vulkan)
  rd->add_option("--device", render.device,
                 "Renderer: auto (CUDA when present, else the CPU tile rasterizer), cpu, cuda or vulkan (headless "
                 "GPU or lavapipe)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda", "vulkan"}));
  rd->add_option("--backend", render_backend, "Alias of --device (cpu or vulkan), kept for older scripts")
      ->check(CLI::IsMember({"cpu", "vulkan"}));

  // Language field (docs/language.md).
  sp::cli::LanguageArgs lang;
  auto* lg = app.add_subcommand("language", "Train a language field (sparse-coded CLIP features) on a frozen model from LangSplat-format features");
  lg->add_option("model", lang.model, "Gaussian PLY (geometry and colour stay frozen)")->required();
  add_dataset_options(lg, lang.data);
  lg->add_option("--features", lang.features, "LangSplat language_features/ folder (<image>_f.npy, <image>_s.npy)")->required();
  lg->add_option("-o,--output", lang.output, "Output PLY (the dictionaries go to <stem>.language.npy beside it)")->required();
  lg->add_option("--split", lang.split, "Views that supervise: train or all")->check(CLI::IsMember({"train", "all"}))->capture_default_str();
  lg->add_option("--iterations", lang.iterations, "Iterations (each trains the three levels on one view)")
      ->check(CLI::Range(1L, 100000000L))->capture_default_str();
  lg->add_option("--codes", lang.codes, "Dictionary size L per level")->check(CLI::Range(1, 4096))->capture_default_str();
  lg->add_option("--top-k", lang.top_k, "Codes kept per Gaussian and level")->check(CLI::Range(1, 256))->capture_default_str();
  lg->add_option("--lr", lang.lr, "Adam learning rate of the logits")->capture_default_str();
  lg->add_option("--lr-dictionary", lang.lr_dictionary, "Adam learning rate of the dictionaries")->capture_default_str();
  lg->add_option("--seed", lang.seed, "Random seed (k-means, logits, view order)");
  lg->add_option("--checkpoint-every", lang.checkpoint_every,
                 "Write <output stem>.language-checkpoint.bin every N iterations (0 = only on SIGINT/SIGTERM); "
                 "removed once the model is written")
      ->check(CLI::Range(0L, 100000000L))->capture_default_str();
  lg->add_option("--resume", lang.resume,
                 "Continue from a checkpoint file, or auto: from <output stem>.language-checkpoint.bin when it exists "
                 "(the same run, stopped or killed), else start fresh");

  sp::cli::QueryArgs query;
  auto* qy = app.add_subcommand("query", "Open-vocabulary relevance heatmaps, masks and points from a model's language field");
  qy->add_option("model", query.model, "PLY written by `sparsplat language`")->required();
  qy->add_option("phrases", query.phrases, "Query phrases (each needs a row in the text embeddings)");
  qy->add_option("--text-embeddings", query.text_embeddings, "Phrase embeddings .npy [M, D] (docs/language.md)")->required();
  qy->add_option("--phrases-file", query.phrases_file, "JSON list of the M phrases (default: the .npy path with .json)");
  qy->add_option("--dictionary", query.dictionary, "Dictionaries .npy (default: <model stem>.language.npy)");
  qy->add_option("--cameras", query.cameras, "INRIA cameras.json");
  qy->add_option("--dataset", query.data.path, "Dataset whose cameras to query");
  add_dataset_options(qy, query.data, false);
  qy->add_option("--split", query.split, "With --dataset: test, train or all")
      ->check(CLI::IsMember({"test", "train", "all"}))->capture_default_str();
  qy->add_option("-o,--output", query.output, "Output folder")->required();
  qy->add_option("--top-k", query.top_k, "Codes per Gaussian and level (as trained)")->check(CLI::Range(1, 256))->capture_default_str();
  qy->add_option("--pool", query.pool, "Relevance smoothing box (LERF: 29 at ~1000 px)")->check(CLI::Range(1, 1001))->capture_default_str();
  qy->add_option("--mask-pool", query.mask_pool, "Mask smoothing box (LERF: 7)")->check(CLI::Range(1, 1001))->capture_default_str();
  qy->add_option("--threshold", query.threshold, "Mask threshold on the normalized relevance")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  qy->add_option("--lerf-labels", query.lerf_labels, "LERF-OVS label folder (<image stem>.json): mIoU and localization");
  qy->add_option("--ovs-masks", query.ovs_masks, "3D-OVS mask folder (<image stem>/<category>.png): mIoU");

  sp::cli::EvalArgs eval;
  auto* ev = app.add_subcommand("eval", "PSNR/SSIM of renders against ground truth (matching file names)");
  ev->add_option("inputs", eval.inputs, "A recon output folder, or RENDERS_DIR GT_DIR")->required()->expected(1, 2);
  ev->add_option("-o,--output", eval.output, "Write metrics JSON here");
  ev->add_option("--masks", eval.masks,
                 "Object masks (named like the images, or {i:03d}.png for SpaRe view i): masked PSNR/SSIM");
  ev->add_option("--benchmark", eval.benchmark,
                 "spare: the SpaRe benchmark's metrics (PSNR-M in the mask, SSIM-M and LPIPS-M in its bounding box, "
                 "full-image PSNR, SSIM, LPIPS; docs/submission.md)")
      ->check(CLI::IsMember({"spare"}));
  ev->add_option("--lpips", eval.lpips, "LPIPS (AlexNet v0.1) weights file made by scripts/convert_lpips.py");
  ev->add_flag("--no-lpips", eval.no_lpips, "With --benchmark spare: leave LPIPS out");

  sp::cli::InfoArgs info;
  auto* in = app.add_subcommand("info", "Summarize a dataset folder, a recon output folder or a Gaussian model file");
  in->add_option("path", info.path, "Dataset folder, recon output folder, or model file (.ply, .compressed.ply, .spz, .splat)")
      ->required();
  add_dataset_options(in, info.data, false);

  // Export for web viewers and SuperSplat (docs/export.md).
  sp::cli::ExportArgs exp;
  auto* ex = app.add_subcommand(
      "export", "Write a model as .splat (antimatter15), .spz (Niantic), .compressed.ply (SuperSplat) or .ply");
  ex->add_option("model", exp.model, "Gaussian model (.ply, .compressed.ply, .spz, .splat) or a recon output folder")
      ->required();
  ex->add_option("-o,--output", exp.output, "Output file; its extension picks the format")->required();
  auto* spz_version = ex->add_option("--spz-version", exp.spz_version,
                                     "SPZ version: 3 (smallest-three rotations) or 2 (for older readers)")
                          ->check(CLI::IsMember({2, 3}));
  ex->add_option("--sh-degree", exp.sh_degree, "Keep SH up to this degree (default: all the model and format keep)")
      ->check(CLI::Range(0, 3));

  sp::cli::SynthArgs synth;
  auto* sy = app.add_subcommand("synth", "Render a synthetic DTU/SpaRe-style scene (scenes/*.json) into SpaRe and COLMAP layouts");
  sy->add_option("scene", synth.scene, "Scene JSON (see scenes/README.md)")->required();
  sy->add_option("-o,--output", synth.output, "Output folder")->required();
  sy->add_option("--resolution", synth.resolution, "Image size WxH, or a width keeping the scene's aspect (default: the scene's)");
  sy->add_option("--views", synth.views, "Number of rig cameras (default: the scene's)")->check(CLI::Range(1, 10000));
  sy->add_option("--lighting", synth.lighting, "Lighting set-up index L (default: the scene's, 3)")->check(CLI::Range(0, 1000));
  sy->add_option("--seed", synth.seed, "Random seed (default: the scene's)")->check(CLI::Range(int64_t(0), int64_t(9007199254740992)));
  sy->add_option("--colour-spread", synth.colour_spread,
                 "Photos in the wild: per-input-view affine colour transforms of this spread (0 = none; "
                 "docs/in_the_wild.md)")
      ->check(CLI::Range(0.0f, 1.0f));
  sy->add_option("--occluders", synth.occluders, "Photos in the wild: occluders pasted into each input view")
      ->check(CLI::Range(0, 100));
  sy->add_option("--supersampling", synth.supersampling, "n x n samples per pixel, n odd (default: the scene's, 3)")
      ->check(CLI::Range(1, 9));
  sy->add_option("--arrangement", synth.arrangement,
                 "Re-arrange the scene's objects by this seed (positions, turns, sizes, lighting, platform tint; "
                 "-1 = as in the file); the scene is named <name>_<seed>")
      ->check(CLI::Range(int64_t(-1), int64_t(1) << 40));
  sy->add_option("--layout", synth.layout, "Which layouts to write: spare, colmap or all")
      ->check(CLI::IsMember({"spare", "colmap", "all"}))
      ->capture_default_str();

  // Benchmark submission (SpaRe / AIM 2024 sparse rendering; docs/submission.md). Options that
  // do not change the images are left out of the settings a finished scene is reused under.
  sp::cli::SubmitArgs submit;
  auto* sb = app.add_subcommand(
      "submit",
      "Benchmark submission (SpaRe): reconstruct each scene of a split file from its input views, render the test "
      "views at full size, write and check the archive; or --check, --merge, --score an archive");
  const auto not_a_setting = [](CLI::Option* o) { o->configurable(false); };
  not_a_setting(sb->add_option("inputs", submit.inputs,
                               "DATA_ROOT (the scene folders); with --check or --score: an archive; with --merge: the "
                               "shard archives")
                    ->required()
                    ->expected(1, -1));
  not_a_setting(sb->add_option("--split", submit.split, "The benchmark's split file (e.g. Track1_split_test.json)")->required());
  sb->add_option("--views", submit.views, "Train on the first N input views of each scene (0 = all of them)")
      ->check(CLI::Range(0, 1000));
  not_a_setting(sb->add_option("-o,--output", submit.output,
                               "The archive (.zip), or a folder for <folder>/submission.zip (and scores.json with --score)"));
  not_a_setting(sb->add_option("--work", submit.work,
                               "Work folder: finished scenes, reused when a run is restarted (default: the archive's "
                               "name with .work)"));
  not_a_setting(sb->add_option("--calibration", submit.calibration,
                               "Folder with pos_XXX.txt (or <scene>/pos_XXX.txt) when the scene folders lack them"));
  not_a_setting(sb->add_option("--scenes", submit.scenes, "Only these scenes (comma-separated)")->delimiter(','));
  not_a_setting(sb->add_option("--shard", submit.shard,
                               "Only shard I of N (1-based, every N-th scene by name); join the shards with --merge"));
  not_a_setting(sb->add_flag("--check", submit.check,
                             "Check an archive: missing, extra, unreadable, wrongly sized or named PNGs (exit 2 on any)"));
  not_a_setting(sb->add_flag("--merge", submit.merge, "Merge shard archives into -o, checked against the split"));
  not_a_setting(sb->add_flag("--score", submit.score,
                             "Score against ground truth: PSNR-M, SSIM-M, LPIPS-M, PSNR, SSIM, LPIPS per view, scene, "
                             "dataset"));
  not_a_setting(sb->add_option("--gt", submit.ground_truth,
                               "With --score: ground-truth root (<scene>/<image>, <scene>/mask/{i:03d}.png; default: "
                               "DATA_ROOT)"));
  not_a_setting(sb->add_option("--lpips", submit.lpips, "With --score: LPIPS weights file (scripts/convert_lpips.py)"));
  not_a_setting(sb->add_flag("--no-lpips", submit.no_lpips, "With --score: leave LPIPS out"));
  sb->add_option("--size", submit.size, "Image size WxH (--check: default 1600x1200; otherwise the input images' size)");
  sb->add_option("--downscale", submit.downscale, "Train at 1/N of the input images' size")->check(CLI::Range(0, 64));
  sb->add_option("--resolution", submit.resolution,
                 "Train with the longest side capped at this many pixels (the test views are rendered at full size)")
      ->check(CLI::Range(0, 16384))
      ->capture_default_str();
  sb->add_option("--iterations", submit.config.iterations,
                 "Training iterations per scene (default: the sparse-view preset's, 1000)")
      ->check(CLI::Range(0L, 10000000L));
  sb->add_option("--seed", submit.config.seed, "Random seed (every scene)")->capture_default_str();
  sb->add_option("--init", submit.config.init.method, "Initial Gaussians: auto, sfm, random or mvs (as recon)")
      ->check(CLI::IsMember({"auto", "sfm", "random", "mvs"}))
      ->capture_default_str();
  sb->add_option("--sh-degree", submit.config.sh_degree, "Maximum SH degree")->check(CLI::Range(0, 3))->capture_default_str();
  sb->add_option("--regularizers", submit.config.regularizers.preset, "Sparse-view regularizer preset: auto or off")
      ->check(CLI::IsMember({"auto", "off"}))
      ->capture_default_str();
  sb->add_option("--co-training", submit.config.regularizers.co_training, "CoR-GS co-training: auto, on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  sb->add_option("--max-gaussians", submit.config.max_gaussians, "Stop densifying beyond this many Gaussians (0 = no cap)");
  sb->add_option("--background", submit.background, "Background colour r,g,b in [0,1] (default: black)")
      ->delimiter(',')
      ->expected(3);
  sb->add_option("--device", submit.config.device, "Train and render on: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();

  std::string completion_shell;
  auto* cp = app.add_subcommand("completion", "Print a shell completion script (bash or zsh) for sparsplat's subcommands and options");
  cp->add_option("shell", completion_shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));

  // Every subcommand reads --config FILE; its help says so, since root's options are not listed there.
  sp::cli::add_option_file(app);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    sub->footer("Options can also come from --config FILE: a JSON object of these options' long names and values "
                "(a recon's config.json is one); the command line wins.");

  // CLI11 would only say "a subcommand is required" for a mistyped one; name it instead.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" || arg == "--config") {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    const auto subs = app.get_subcommands([&](const CLI::App* a) { return a->get_name() == arg; });
    if (subs.empty()) {
      std::fprintf(stderr, "error: unknown command '%s' (expected recon, render, eval, info, export, synth, submit, language, query, train-prior or completion; see --help)\n", arg.c_str());
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
    if (*r) {
      recon.config.test_views = !skip_test_renders;
      if (random_background && no_random_background)
        throw sp::Error(sp::ErrorKind::BadInput, "--random-background and --no-random-background: give one");
      if (random_background) recon.config.regularizers.random_background = "on";
      if (no_random_background) recon.config.regularizers.random_background = "off";
      recon.config.densify = !no_densify;
      recon.config.options_json = sp::cli::options_json(*r, sp::thread_count());
      return sp::cli::run_recon(recon);
    }
    if (*rd) {
      if (!render_backend.empty()) {
        if (render.device != "auto" && render.device != render_backend)
          throw sp::Error(sp::ErrorKind::BadInput, "--backend " + render_backend + " and --device " + render.device +
                                                      " disagree (--backend is an alias of --device; give one)");
        render.device = render_backend;
      }
      return sp::cli::run_render(render);
    }
    if (*ev) return sp::cli::run_eval(eval);
    if (*sb) {
      submit.settings = sb->config_to_str(true, false);
      return sp::cli::run_submit(submit);
    }
    if (*lg) return sp::cli::run_language(lang);
    if (*qy) return sp::cli::run_query(query);
    if (*sy) return sp::cli::run_synth(synth);
    if (*tpc) return sp::cli::run_train_prior(tp);
    if (*cp) {
      std::fputs(sp::cli::completion_script(app, completion_shell).c_str(), stdout);
      return 0;
    }
    if (*in) {
      info.data.path = info.path;
      return sp::cli::run_info(info);
    }
    if (*ex) {
      exp.spz_version_given = spz_version->count() > 0;
      return sp::cli::run_export(exp);
    }
  } catch (const sp::Interrupted& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 128 + e.signal();
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
