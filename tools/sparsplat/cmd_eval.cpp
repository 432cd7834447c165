// sparsplat eval: renders against ground truth, file names matched.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/eval/metrics.h"
#include "engine/eval/scores.h"
#include "engine/io/image_io.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {
Image load_rgb(const std::string& path) {
  Image img = load_image(path);
  if (img.channels == 4) return composite_rgba(img, 0, 0, 0);
  if (img.channels == 3) return img;
  return load_image(path, 3);
}
}  // namespace

int run_eval(const EvalArgs& args) {
  fs::path renders, gt;
  if (args.inputs.size() == 1) {
    renders = fs::path(args.inputs[0]) / "test" / "renders";
    gt = fs::path(args.inputs[0]) / "test" / "gt";
  } else {
    renders = args.inputs[0];
    gt = args.inputs[1];
  }
  for (const auto& dir : {renders, gt})
    if (!fs::is_directory(dir)) throw_bad_input(dir.string(), "no such folder");

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(renders)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".PNG" || ext == ".JPG"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw_bad_input(renders.string(), "holds no images");

  std::vector<ViewScore> views;
  for (const auto& f : files) {
    const fs::path g = gt / f.filename();
    if (!fs::exists(g)) throw_bad_input(g.string(), "missing ground truth for render " + f.filename().string());
    const Image a = load_rgb(f.string()), b = load_rgb(g.string());
    if (a.width != b.width || a.height != b.height)
      throw_bad_input(g.string(), "size " + std::to_string(b.width) + "x" + std::to_string(b.height) +
                                      " differs from the render's " + std::to_string(a.width) + "x" +
                                      std::to_string(a.height));
    views.push_back({f.filename().string(), psnr(a, b), ssim(a, b)});
  }
  const Scores scores = summarize(std::move(views));
  std::fputs(scores_table(scores).c_str(), stdout);
  if (!args.output.empty()) write_json_file(args.output, scores_json(scores, {}));
  return 0;
}

}  // namespace sp::cli
