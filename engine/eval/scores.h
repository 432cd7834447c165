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
};
struct Scores {
  std::vector<ViewScore> views;
  double mean_psnr = 0, mean_ssim = 0;
  double mean_masked_psnr = -1;  // over the views with a mask; < 0 when none has one
  double mean_masked_ssim = -1;
};

// PSNR and SSIM of one render, plus the object-masked scores of the published DTU tables
// (DNGaussian / CoR-GS metrics_dtu.py: white outside the object, PSNR over the fully-inside
// pixels, SSIM over the frame) when `mask` is not empty and holds some object.
ViewScore score_view(const std::string& name, const Image& render, const Image& gt, const Image& mask);

// Means over the views (masked means over the views with a mask).
Scores summarize(std::vector<ViewScore> views);

// {"mean": {...}, "views": [...]} plus the extra key/values (each value serialized JSON).
std::string scores_json(const Scores& scores, const std::vector<std::pair<std::string, std::string>>& extra = {});

// A small table of per-view and mean metrics (masked columns when any view has a mask).
std::string scores_table(const Scores& scores);

}  // namespace sp
