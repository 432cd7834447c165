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
};

struct ReconArgs {
  DatasetArgs data;
  std::string output;
  long iterations = 3000;
  uint64_t seed = 0;
  std::string init = "auto";  // auto | sfm | random
  size_t init_points = 10000;
  int sh_degree = 3;
  std::vector<float> background;  // empty: black, or the colour transparent images were composited on
  bool random_background = false;
  long checkpoint_interval = 0;
  std::string resume;
  size_t max_gaussians = 0;
  bool skip_test_renders = false;
  bool no_densify = false;
};

struct RenderArgs {
  std::string model;        // PLY
  std::string cameras;      // INRIA cameras.json, or
  DatasetArgs data;         // a dataset (its cameras, split "test" by default)
  std::string split = "test";  // test | train | all (with a dataset)
  std::string output;
  std::vector<float> background = {0, 0, 0};
  int sh_degree = -1;       // -1: the model's degree
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

int run_recon(const ReconArgs& args);
int run_render(const RenderArgs& args);
int run_eval(const EvalArgs& args);
int run_info(const InfoArgs& args);
int run_synth(const SynthArgs& args);

}  // namespace sp::cli
