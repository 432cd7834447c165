#pragma once
// The sparsplat subcommands. main.cpp parses the command line (CLI11 stays in it and in the
// two files that walk its app tree, option_file.cpp and completion.cpp: it is slow to
// compile) and calls these; each returns the process exit code and reports bad input by
// throwing sp::Error.
#include <cstdint>
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/pipeline/recon.h"

namespace sp::cli {

struct DatasetArgs {
  std::string path;
  int downscale = 0;
  int resolution = 0;
  int train_views = 0;
  std::vector<int> train_ids, test_ids;
  bool black_background_for_rgba = false;
  std::string protocol = "auto";  // auto | llff | dtu | blender (split + default resolution)
  size_t cache_bytes = 0;         // decoded images held in memory; 0 = the dataset's default
};

// recon: the dataset options and the pipeline's own config (engine/pipeline/recon.h), which
// the options are parsed straight into; only what needs parsing stays here.
struct ReconArgs {
  DatasetArgs data;
  ReconConfig config;
  std::string max_memory;  // --max-memory as given ("8G", "512M", bytes); parsed into config
  std::vector<float> background;  // empty: the pipeline's default (black, or the RGBA backdrop)
};

struct RenderArgs {
  std::string model;        // PLY, or a recon output folder (its point_cloud.ply and cameras.json)
  std::string cameras;      // INRIA cameras.json, or
  DatasetArgs data;         // a dataset (its cameras, split "test" by default)
  std::string split = "test";  // test | train | all (with a dataset)
  std::string output;
  std::vector<float> background = {0, 0, 0};
  int sh_degree = -1;       // -1: the model's degree
  std::string appearance_from;  // photo whose light to render in (its code fitted, geometry frozen)
  std::string appearance;       // train image whose stored code to render with
  std::string device = "auto";  // auto | cpu | cuda | vulkan (engine/pipeline/devices.h); --backend is an alias
};

struct EvalArgs {
  std::vector<std::string> inputs;  // run folder, or renders folder + ground-truth folder
  std::string output;               // metrics.json path ("" = print only)
  std::string masks;                // object masks (named like the images, or {i:03d}.png by SpaRe view)
  std::string benchmark;            // "" or "spare": the SpaRe metrics (PSNR-M, SSIM-M, LPIPS-M, ...)
  std::string lpips;                // LPIPS weights file (scripts/convert_lpips.py)
  bool no_lpips = false;            // --benchmark spare without LPIPS
};

// sparsplat export (cmd_export.cpp; engine/io/model_file.h, docs/export.md).
struct ExportArgs {
  std::string model;       // any readable model file, or a recon output folder (its point_cloud.ply)
  std::string output;      // .splat, .spz, .compressed.ply or .ply: the extension picks the format
  int spz_version = 3;
  bool spz_version_given = false;
  int sh_degree = -1;      // -1: the model's (what the format keeps of it)
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
  int64_t arrangement = -1;    // >= 0: the objects re-arranged by this seed (synth::arrange_scene)
  float colour_spread = 0;     // input views' colour transforms (synth::WildPhotoOptions)
  int occluders = 0;           // occluders pasted into each input view
};

// sparsplat submit (cmd_submit.cpp; engine/pipeline/submission.h, docs/submission.md).
struct SubmitArgs {
  std::vector<std::string> inputs;   // DATA_ROOT; the archive with --check / --score; the parts with --merge
  std::string split;                 // the benchmark's split file
  int views = 0;                     // first N input views (0 = all of the split's)
  std::string output;                // archive .zip, or a folder (<folder>/submission.zip)
  std::string work;                  // work folder ("" = beside the archive, .zip -> .work)
  std::string calibration;           // folder of pos_XXX.txt when the scene folders lack them
  std::vector<std::string> scenes;   // --scenes a,b,c
  std::string shard;                 // --shard I/N
  bool check = false, merge = false, score = false;
  std::string ground_truth;          // --gt: test images and masks (default: DATA_ROOT)
  std::string lpips;                 // LPIPS weights (scripts/convert_lpips.py)
  bool no_lpips = false;
  std::string size;                  // WxH of the images (--check default 1600x1200; build: the inputs')
  int downscale = 0, resolution = 400;  // training resolution (the dataset options)
  ReconConfig config;                // per scene
  std::vector<float> background;
  std::string settings;              // the options that shape the images (main.cpp: CLI11's config text)
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
  long checkpoint_every = 500;  // into <output stem>.language-checkpoint.bin; 0 = only on SIGINT/SIGTERM
  std::string resume;           // "", auto, or a checkpoint file
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
int run_export(const ExportArgs& args);
int run_synth(const SynthArgs& args);
int run_train_prior(const TrainPriorArgs& args);
int run_submit(const SubmitArgs& args);

}  // namespace sp::cli
