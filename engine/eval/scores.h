#pragma once
// Scores of rendered views against ground truth and their summaries: what `recon`, `eval`,
// the prior's 2D pass and the benchmarks report, and the metrics.json they write.
#include <string>
#include <utility>
#include <vector>

#include "engine/core/image.h"

namespace sp {

struct ViewScore {
  std::string name;
  double psnr = 0, ssim = 0;
  double masked_psnr = -1;  // PSNR inside the object mask; < 0 when the view has no mask
  double masked_ssim = -1;  // SSIM with the background whitened by the mask (DTU tables); < 0 without
  // SpaRe benchmark scores (score_view_spare); < 0 when not computed.
  double lpips = -1;      // LPIPS (AlexNet) of the whole image
  double box_ssim = -1;   // SSIM-M: SSIM inside the object mask's tight bounding box
  double box_lpips = -1;  // LPIPS-M: LPIPS inside that box
};
struct Scores {
  std::vector<ViewScore> views;
  double mean_psnr = 0, mean_ssim = 0;
  double mean_masked_psnr = -1;  // over the views with a mask; < 0 when none has one
  double mean_masked_ssim = -1;
  double mean_lpips = -1, mean_box_ssim = -1, mean_box_lpips = -1;  // over the views that have them; < 0 when none
};

// PSNR and SSIM of one render, plus the object-masked scores of the published DTU tables
// (DNGaussian / CoR-GS metrics_dtu.py: white outside the object, PSNR over the fully-inside
// pixels, SSIM over the frame) when `mask` is not empty and holds some object.
ViewScore score_view(const std::string& name, const Image& render, const Image& gt, const Image& mask);

// The SpaRe benchmark's scores of one render (AIM 2024 sparse rendering; docs/submission.md
// "Metrics"): score_view's PSNR, SSIM and PSNR-M (the same code as recon's metrics), plus
// SSIM-M and LPIPS-M on the render and ground truth cropped to the tight bounding box of the
// mask's pixels > 0.5 (grown to the 11-pixel SSIM window / the 31 pixels LPIPS needs when
// the object is smaller), and the whole image's LPIPS. `lpips` null: no LPIPS scores.
class Lpips;
ViewScore score_view_spare(const std::string& name, const Image& render, const Image& gt, const Image& mask,
                           const Lpips* lpips);

// Means over the views (masked means over the views with a mask).
Scores summarize(std::vector<ViewScore> views);

// {"mean": {...}, "views": [...]} plus the extra key/values (each value serialized JSON).
std::string scores_json(const Scores& scores, const std::vector<std::pair<std::string, std::string>>& extra = {});

// A small table of per-view and mean metrics (masked columns when any view has a mask).
std::string scores_table(const Scores& scores);
// The SpaRe benchmark's columns: PSNR-M, SSIM-M (box), LPIPS-M, PSNR, SSIM, LPIPS ("-" where
// a view lacks a score), per view and the mean; `title` names the first column.
std::string spare_scores_table(const Scores& scores, const std::string& title = "view");

}  // namespace sp
