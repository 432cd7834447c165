// sparsplat eval: renders against ground truth, file names matched; with --masks the
// object-masked scores, with --benchmark spare the SpaRe benchmark's (docs/submission.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/eval/lpips.h"
#include "engine/eval/metrics.h"
#include "engine/eval/scores.h"
#include "engine/io/image_io.h"
#include "engine/io/spare.h"
#include "tools/sparsplat/common.h"

namespace sp::cli {
namespace fs = std::filesystem;

namespace {
// A render's mask: the same file name (or stem + .png), else SpaRe's {i:03d}.png for the view
// a cam_/rect_ name gives (file number i + 1); "" when there is none.
std::string find_mask(const std::string& dir, const std::string& image) {
  const fs::path d(dir);
  for (const fs::path& p : {d / image, d / (fs::path(image).stem().string() + ".png")})
    if (fs::is_regular_file(p)) return p.string();
  int number = 0, lighting = 0;
  if (parse_spare_image_name(image, number, lighting) && fs::is_regular_file(d / spare_mask_name(number - 1)))
    return (d / spare_mask_name(number - 1)).string();
  return {};
}

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

  // SpaRe benchmark metrics (docs/submission.md): LPIPS needs its weights unless left out.
  const bool spare = args.benchmark == "spare";
  if (!args.masks.empty() && !fs::is_directory(args.masks)) throw_bad_input(args.masks, "no such mask folder");
  if (args.no_lpips && !spare) throw_bad_input("--no-lpips", "only with --benchmark spare");
  std::unique_ptr<Lpips> lpips;
  if ((spare && !args.no_lpips) || !args.lpips.empty()) lpips = std::make_unique<Lpips>(Lpips::load(args.lpips));
  size_t without_mask = 0;

  std::vector<ViewScore> views;
  for (const auto& f : files) {
    const fs::path g = gt / f.filename();
    if (!fs::exists(g)) throw_bad_input(g.string(), "missing ground truth for render " + f.filename().string());
    const Image a = load_rgb(f.string()), b = load_rgb(g.string());
    if (a.width != b.width || a.height != b.height)
      throw_bad_input(g.string(), "size " + std::to_string(b.width) + "x" + std::to_string(b.height) +
                                      " differs from the render's " + std::to_string(a.width) + "x" +
                                      std::to_string(a.height));
    const std::string name = f.filename().string();
    const std::string mask_path = args.masks.empty() ? "" : find_mask(args.masks, name);
    const Image mask = mask_path.empty() ? Image() : load_mask_image(mask_path, a.width, a.height);
    without_mask += !args.masks.empty() && mask.empty();
    if (spare || lpips)
      views.push_back(score_view_spare(name, a, b, mask, lpips.get()));
    else if (!mask.empty())
      views.push_back(score_view(name, a, b, mask));
    else
      views.push_back({name, psnr(a, b), ssim(a, b)});
  }
  if (without_mask)
    log_warn(std::to_string(without_mask) + " of " + std::to_string(files.size()) + " renders have no mask in " +
             args.masks + " (named like the image, or {i:03d}.png for SpaRe view i): no masked scores for them");
  const Scores scores = summarize(std::move(views));
  std::fputs((spare ? spare_scores_table(scores) : scores_table(scores)).c_str(), stdout);
  if (lpips && !spare)
    std::printf("LPIPS (AlexNet): %.4f%s\n", scores.mean_lpips,
                scores.mean_box_lpips >= 0 ? (", in the mask's box " + std::to_string(scores.mean_box_lpips)).c_str() : "");
  if (!args.output.empty()) write_json_file(args.output, scores_json(scores, {}));
  return 0;
}

}  // namespace sp::cli
