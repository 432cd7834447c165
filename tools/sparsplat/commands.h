#pragma once
// The sparsplat subcommands. main.cpp parses the command line (CLI11 stays in that one
// file: it is slow to compile) and calls these; each returns the process exit code and
// reports bad input by throwing sp::Error.
#include <cstdint>
#include <string>
#include <vector>

#include <glm/glm.hpp>

namespace sp::cli {

struct DatasetArgs {
  std::string path;
  int downscale = 0;
  int resolution = 0;
  int train_views = 0;
  std::vector<int> train_ids, test_ids;
  bool black_background_for_rgba = false;
  std::string protocol = "auto";  // auto | llff | dtu | blender (split + default resolution)
};

// recon --prior: diffusion-prior refinement (docs/prior.md; engine/prior/refinement.h).
struct PriorReconArgs {
  std::string model;              // built-in prior (train-prior's prior.pt) or TorchScript; "" = off
  long start = -1;                // first round at this iteration; -1: half of --iterations
  long every = -1;                // then every N; -1: a quarter of --iterations
  int views = 6;                  // pseudo views per round
  float pose_fraction = 0.5f;     // with --prior-targets test: per-round step toward the test poses
  std::string targets = "auto";  // auto (test when the dataset has test views) | interpolated | test
  float sample_probability = 0.3f;
  float loss_weight = 0.3f;
  float alpha_threshold = 0.5f;
  float strength_start = 0.5f, strength_end = 0.2f;
  int steps = 10;                 // DDIM steps
  bool one_step = true;           // measured better than 10 DDIM steps (docs/prior.md)
  float cache_threshold = 0.0f;
  int samples = 8;                // refinements averaged per view (sampler.h: less residual noise)
  float min_change = 0.02f;       // leave pixels the prior barely changed unsupervised (refinement.h)
  float final_pass = 0.0f;        // > 0: also refine the test renders at this strength (2D pass)
};

// recon sparse-view regularizers (docs/sparse_view.md "Regularizers"; engine/train/trainer.h).
// "auto" / negative values: the sparse-view preset for <= 9 train views, off otherwise.
struct RegularizerArgs {
  std::string preset = "auto";     // auto | off: off = plain 3DGS whatever the view count
  std::string co_training = "auto";  // auto | on | off
  std::string unpooling = "auto";    // auto | on | off
  int pseudo_views = -1;
  float co_regularization = -1, opacity_entropy = -1, scale_penalty = -1, anisotropy_penalty = -1,
        depth_smoothness = -1, densify_grad_threshold = -1, max_angular_scale = -1;
};

struct ReconArgs {
  DatasetArgs data;
  std::string output;
  long iterations = -1;  // -1: 3000, or 1000 under the sparse-view preset (<= 9 train views)
  uint64_t seed = 0;
  std::string init = "auto";  // auto | sfm | random | mvs
  size_t init_points = 10000;
  int sh_degree = 3;
  std::vector<float> background;  // empty: black, or the colour transparent images were composited on
  bool random_background = false;
  long checkpoint_interval = 0;
  std::string resume;
  size_t max_gaussians = 0;
  bool skip_test_renders = false;
  bool no_densify = false;
  PriorReconArgs prior;
  std::string language;            // LangSplat language_features/ folder: train a language field after RGB
  long language_iterations = 10000;
  RegularizerArgs reg;
  std::string device = "auto";    // auto | cpu | cuda (tools/sparsplat/device.h, docs/cuda.md)
};

struct RenderArgs {
  std::string model;        // PLY
  std::string cameras;      // INRIA cameras.json, or
  DatasetArgs data;         // a dataset (its cameras, split "test" by default)
  std::string split = "test";  // test | train | all (with a dataset)
  std::string output;
  std::vector<float> background = {0, 0, 0};
  int sh_degree = -1;       // -1: the model's degree
  std::string backend = "cpu";  // cpu | vulkan (headless, engine/display)
  std::string device = "auto";  // auto | cpu | cuda: the rasterizer of --backend cpu (docs/cuda.md)
};

struct EvalArgs {
  std::vector<std::string> inputs;  // run folder, or renders folder + ground-truth folder
  std::string output;               // metrics.json path ("" = print only)
};

struct InfoArgs {
  std::string path;
  DatasetArgs data;
};

struct SynthArgs {
  std::string scene;           // scene JSON (scenes/*.json)
  std::string output;          // output folder
  std::string resolution;      // "WxH" or "W"; "" = the scene's
  int views = 0;               // 0 = the scene's rig
  int lighting = -1;           // -1 = the scene's default (3)
  int64_t seed = -1;           // -1 = the scene's
  int supersampling = 0;       // 0 = the scene's (odd: 1, 3, 5...)
  std::string layout = "all";  // spare | colmap | all
};

// sparsplat train-prior (cmd_train_prior.cpp; needs libtorch).
struct TrainPriorArgs {
  std::string scene;             // base scene file (scenes/demo.json); objects re-placed per seed
  std::string output;
  int scenes = 8;                // training scenes (seeds seed_base .. seed_base + scenes - 1)
  uint64_t seed_base = 1000;     // keep evaluation scenes outside this range
  int width = 128, height = 96;
  int views = 24;
  long recon_iterations = 300;
  long steps = 1500;
  int batch = 8;
  int crop = 48;
  float learning_rate = 3e-4f;
  int base_channels = 32;
  int levels = 3;
  long checkpoint_every = 100;
  double time_limit_seconds = 0; // 0 = none
  bool resume = false;
  bool scenes_only = false;      // only generate the scenes (e.g. held-out evaluation scenes)
  // --evaluate MODEL: instead of training, refine every pair's render with MODEL and report
  // PSNR/SSIM against the ground truth before and after, network calls and time.
  std::string evaluate;
  float strength = 0.3f;
  int ddim_steps = 10;
  bool one_step = false;
  float cache_threshold = 0.0f;
  int samples = 1;
};

// sparsplat language / query (cmd_language.cpp, cmd_query.cpp; docs/language.md).
struct LanguageArgs {
  std::string model;           // Gaussian PLY (geometry and colour stay frozen)
  DatasetArgs data;            // cameras of the images the features belong to
  std::string features;        // LangSplat language_features/ folder
  std::string output;          // output PLY (+ <stem>.language.npy)
  std::string split = "train"; // train | all: which views supervise
  long iterations = 10000;
  int codes = 64;
  int top_k = 4;
  float lr = 0.0025f, lr_dictionary = 0.0025f;
  uint64_t seed = 0;
};

struct QueryArgs {
  std::string model;               // PLY with a language field
  std::string dictionary;          // "" = <model stem>.language.npy
  std::string cameras;             // INRIA cameras.json, or
  DatasetArgs data;                // a dataset's cameras
  std::string split = "test";      // test | train | all (with a dataset)
  std::string text_embeddings;     // .npy [M, D]
  std::string phrases_file;        // JSON list of M phrases ("" = the .npy path with .json)
  std::vector<std::string> phrases;// the queries ("" with --lerf-labels: the labels' categories)
  std::string output;              // folder: <view>/<phrase>_{heatmap,mask}.png, query.json
  int top_k = 4;
  int pool = 29, mask_pool = 7;
  float threshold = 0.4f;
  std::string lerf_labels;         // folder of LERF-OVS <frame>.json labels named as the images
  std::string ovs_masks;           // folder of 3D-OVS <image stem>/<category>.png masks
};

int run_language(const LanguageArgs& args);
int run_query(const QueryArgs& args);
int run_recon(const ReconArgs& args);
int run_render(const RenderArgs& args);
int run_eval(const EvalArgs& args);
int run_info(const InfoArgs& args);
int run_synth(const SynthArgs& args);
int run_train_prior(const TrainPriorArgs& args);

}  // namespace sp::cli
