#include "engine/eval/scores.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/eval/metrics.h"

namespace sp {

ViewScore score_view(const std::string& name, const Image& render, const Image& gt, const Image& mask) {
  ViewScore score{name, psnr(render, gt), ssim(render, gt)};
  if (!mask.empty()) {
    try {
      const ObjectMaskedScores m = object_masked_scores(render, gt, mask);
      score.masked_psnr = m.psnr;
      score.masked_ssim = m.ssim;
    } catch (const Error&) {
      // an empty mask (the object is out of view): no masked score for this view
    }
  }
  return score;
}

Scores summarize(std::vector<ViewScore> views) {
  Scores s;
  s.views = std::move(views);
  for (const auto& v : s.views) {
    s.mean_psnr += v.psnr;
    s.mean_ssim += v.ssim;
  }
  if (!s.views.empty()) {
    s.mean_psnr /= double(s.views.size());
    s.mean_ssim /= double(s.views.size());
  }
  double masked = 0, masked_ssim = 0;
  int n_masked = 0;
  for (const auto& v : s.views)
    if (v.masked_psnr >= 0) {
      masked += v.masked_psnr;
      masked_ssim += v.masked_ssim;
      ++n_masked;
    }
  if (n_masked) {
    s.mean_masked_psnr = masked / n_masked;
    s.mean_masked_ssim = masked_ssim / n_masked;
  }
  return s;
}

namespace {
// JSON has no infinity: identical images give PSNR = inf, written as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

std::string scores_json(const Scores& scores, const std::vector<std::pair<std::string, std::string>>& extra) {
  nlohmann::ordered_json j;
  j["mean"] = {{"psnr", number(scores.mean_psnr)}, {"ssim", number(scores.mean_ssim)}};
  if (scores.mean_masked_psnr >= 0) {
    j["mean"]["masked_psnr"] = number(scores.mean_masked_psnr);
    j["mean"]["masked_ssim"] = number(scores.mean_masked_ssim);
  }
  j["views"] = nlohmann::json::array();
  for (const auto& v : scores.views) {
    nlohmann::ordered_json e = {{"name", v.name}, {"psnr", number(v.psnr)}, {"ssim", number(v.ssim)}};
    if (v.masked_psnr >= 0) {
      e["masked_psnr"] = number(v.masked_psnr);
      e["masked_ssim"] = number(v.masked_ssim);
    }
    j["views"].push_back(e);
  }
  for (const auto& [key, value] : extra) j[key] = nlohmann::json::parse(value);
  return j.dump(2);
}

std::string scores_table(const Scores& scores) {
  const bool masked = scores.mean_masked_psnr >= 0;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-32s %8s %8s%s\n", "view", "PSNR", "SSIM", masked ? "  PSNR-M  SSIM-M" : "");
  out += line;
  auto row = [&](const std::string& name, double p, double s, double m, double ms) {
    std::snprintf(line, sizeof line, "%-32s %8.3f %8.4f", name.c_str(), p, s);
    out += line;
    if (masked) {
      if (m >= 0)
        std::snprintf(line, sizeof line, " %7.3f %7.4f", m, ms);
      else
        std::snprintf(line, sizeof line, "       -       -");
      out += line;
    }
    out += "\n";
  };
  for (const auto& v : scores.views) row(v.name, v.psnr, v.ssim, v.masked_psnr, v.masked_ssim);
  row("mean", scores.mean_psnr, scores.mean_ssim, scores.mean_masked_psnr, scores.mean_masked_ssim);
  return out;
}

}  // namespace sp
