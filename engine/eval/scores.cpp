#include "engine/eval/scores.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/eval/lpips.h"
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

ViewScore score_view_spare(const std::string& name, const Image& render, const Image& gt, const Image& mask,
                           const Lpips* lpips) {
  ViewScore score = score_view(name, render, gt, mask);
  if (lpips) score.lpips = lpips->distance(render, gt);
  if (mask.empty()) return score;
  if (mask.width != render.width || mask.height != render.height)
    throw_bad_input("masked metrics", "mask size " + std::to_string(mask.width) + "x" + std::to_string(mask.height) +
                                          " does not match the image " + std::to_string(render.width) + "x" +
                                          std::to_string(render.height));
  const PixelBox box = mask_bounding_box(mask, kSsimWindow);
  if (box.empty()) return score;  // the object is out of view: no masked scores
  score.box_ssim = ssim(crop(render, box), crop(gt, box));
  if (lpips) {
    const PixelBox wide = mask_bounding_box(mask, Lpips::kMinSide);
    score.box_lpips = lpips->distance(crop(render, wide), crop(gt, wide));
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
  const auto mean_of = [&](double ViewScore::*field) {
    double sum = 0;
    int n = 0;
    for (const auto& v : s.views)
      if (v.*field >= 0) {
        sum += v.*field;
        ++n;
      }
    return n ? sum / n : -1.0;
  };
  s.mean_lpips = mean_of(&ViewScore::lpips);
  s.mean_box_ssim = mean_of(&ViewScore::box_ssim);
  s.mean_box_lpips = mean_of(&ViewScore::box_lpips);
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
  // SpaRe scores, only when computed (the keys recon writes stay as they were).
  const auto extras = [](nlohmann::ordered_json& e, double lpips, double box_ssim, double box_lpips) {
    if (lpips >= 0) e["lpips"] = number(lpips);
    if (box_ssim >= 0) e["box_ssim"] = number(box_ssim);
    if (box_lpips >= 0) e["box_lpips"] = number(box_lpips);
  };
  extras(j["mean"], scores.mean_lpips, scores.mean_box_ssim, scores.mean_box_lpips);
  j["views"] = nlohmann::json::array();
  for (const auto& v : scores.views) {
    nlohmann::ordered_json e = {{"name", v.name}, {"psnr", number(v.psnr)}, {"ssim", number(v.ssim)}};
    if (v.masked_psnr >= 0) {
      e["masked_psnr"] = number(v.masked_psnr);
      e["masked_ssim"] = number(v.masked_ssim);
    }
    extras(e, v.lpips, v.box_ssim, v.box_lpips);
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

std::string spare_scores_table(const Scores& scores, const std::string& title) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-32s %8s %8s %8s %8s %8s %8s\n", title.c_str(), "PSNR-M", "SSIM-M", "LPIPS-M",
                "PSNR", "SSIM", "LPIPS");
  out += line;
  const auto cell = [](double v, int decimals) {
    char b[32];
    if (v < 0 || !std::isfinite(v))
      std::snprintf(b, sizeof b, " %8s", v < 0 ? "-" : "inf");
    else
      std::snprintf(b, sizeof b, " %8.*f", decimals, v);
    return std::string(b);
  };
  const auto row = [&](const std::string& name, double pm, double sm, double lm, double p, double s, double l) {
    std::snprintf(line, sizeof line, "%-32s", name.c_str());
    out += line + cell(pm, 3) + cell(sm, 4) + cell(lm, 4) + cell(p, 3) + cell(s, 4) + cell(l, 4) + "\n";
  };
  for (const auto& v : scores.views) row(v.name, v.masked_psnr, v.box_ssim, v.box_lpips, v.psnr, v.ssim, v.lpips);
  row("mean", scores.mean_masked_psnr, scores.mean_box_ssim, scores.mean_box_lpips, scores.mean_psnr, scores.mean_ssim,
      scores.mean_lpips);
  return out;
}

}  // namespace sp
