#include "engine/pipeline/run_report.h"

#include <cstdio>

#include "engine/core/base64.h"
#include "engine/pipeline/svg_chart.h"

namespace sp {

std::vector<size_t> heldout_subset(size_t n, size_t count) {
  std::vector<size_t> ids;
  if (n == 0 || count == 0) return ids;
  const size_t k = std::min(n, count);
  for (size_t i = 0; i < k; ++i) ids.push_back(k == 1 ? 0 : i * (n - 1) / (k - 1));
  return ids;
}

namespace {

std::string fixed(double v, int digits) {
  if (v < 0) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string table(const std::vector<ReportRow>& rows) {
  std::string s = "<table class=\"kv\">\n";
  for (const ReportRow& r : rows)
    s += "<tr><th>" + html_escape(r.name) + "</th><td>" + html_escape(r.value) + "</td></tr>\n";
  return s + "</table>\n";
}

bool masked(const Scores& s) { return s.mean_masked_psnr >= 0; }
bool has_lpips(const Scores& s) { return s.mean_lpips >= 0; }

std::string score_cells(const ViewScore& v, bool with_mask, bool with_lpips) {
  std::string s = "<td>" + fixed(v.psnr, 2) + "</td><td>" + fixed(v.ssim, 3) + "</td>";
  if (with_mask) s += "<td>" + fixed(v.masked_psnr, 2) + "</td><td>" + fixed(v.masked_ssim, 3) + "</td>";
  if (with_lpips) s += "<td>" + fixed(v.lpips, 3) + "</td>";
  return s;
}

std::string metrics_table(const RunReport& r) {
  const Scores& s = r.scores;
  const bool m = masked(s), l = has_lpips(s);
  std::string head = "<tr><th>view</th><th>PSNR</th><th>SSIM</th>";
  if (m) head += "<th>PSNR-M</th><th>SSIM-M</th>";
  if (l) head += "<th>LPIPS</th>";
  head += "<th>untrained " + std::string(m ? "PSNR-M" : "PSNR") + "</th></tr>\n";
  ViewScore mean{"mean", s.mean_psnr, s.mean_ssim, s.mean_masked_psnr, s.mean_masked_ssim, s.mean_lpips};
  const double start = m ? r.initial_scores.mean_masked_psnr : r.initial_scores.mean_psnr;
  std::string body = "<tr class=\"mean\"><td>mean of " + std::to_string(s.views.size()) + "</td>" +
                     score_cells(mean, m, l) + "<td>" + fixed(start, 2) + "</td></tr>\n";
  for (const ReportView& v : r.views)
    body += "<tr><td>" + html_escape(v.score.name) + "</td>" + score_cells(v.score, m, l) + "<td>" +
            fixed(v.initial_psnr, 2) + "</td></tr>\n";
  return "<table class=\"scores\">\n" + head + body + "</table>\n";
}

std::string charts(const TrainingHistory& h) {
  ChartSeries loss{"loss (moving average)", "#1f77b4", h.iteration, h.loss, false};
  // The step's own render against its photo, over that step's background (random under the
  // sparse-view preset), so it can sit well below the held-out score.
  ChartSeries train{"train PSNR (each step's view and background)", "#2ca02c", h.iteration, h.train_psnr, false};
  ChartSeries held{h.heldout_label.empty() ? "held-out PSNR" : "held-out " + h.heldout_label, "#d62728",
                   h.heldout_iteration, h.heldout_psnr, true};
  ChartSeries count{"Gaussians", "#9467bd", h.iteration, h.gaussians, false};
  std::vector<ChartSeries> psnr{train};
  if (!h.heldout_psnr.empty()) psnr.push_back(held);
  return "<div class=\"charts\">\n" + svg_line_chart({loss}, {"Loss", "iteration", "L1 + D-SSIM"}) +
         svg_line_chart(psnr, {"PSNR", "iteration", "dB"}) +
         svg_line_chart({count}, {"Gaussians", "iteration", "count"}) + "</div>\n";
}

std::string stages_table(const std::vector<ReportStage>& stages) {
  double total = 0;
  for (const ReportStage& s : stages) total += s.seconds;
  std::string t = "<table class=\"stages\">\n<tr><th>stage</th><th>seconds</th><th>share</th><th>what</th></tr>\n";
  for (const ReportStage& s : stages) {
    const std::string secs = s.ran ? fixed(s.seconds, 1) : "not run";
    const std::string share = s.ran && total > 0 ? fixed(100.0 * s.seconds / total, 0) + "%" : "";
    t += "<tr><td>" + html_escape(s.name) + "</td><td>" + secs + "</td><td>" + share + "</td><td>" +
         html_escape(s.detail) + "</td></tr>\n";
  }
  return t + "</table>\n";
}

std::string images(const RunReport& r) {
  const bool m = masked(r.scores);
  std::string s = "<div class=\"views\">\n";
  for (const ReportView& v : r.views) {
    if (v.jpeg.empty()) continue;
    const std::string img = "<img alt=\"" + html_escape(v.score.name) + "\" src=\"data:image/jpeg;base64," +
                            base64_encode(v.jpeg) + "\">";
    const double psnr = m ? v.score.masked_psnr : v.score.psnr;
    s += "<figure>" + (v.link.empty() ? img : "<a href=\"" + html_escape(v.link) + "\">" + img + "</a>") +
         "<figcaption>" + html_escape(v.score.name) + ": " + (m ? "PSNR-M " : "PSNR ") + fixed(psnr, 2) +
         (v.initial_psnr >= 0 ? " (untrained " + fixed(v.initial_psnr, 2) + ")" : "") + "</figcaption></figure>\n";
  }
  return s + "</div>\n";
}

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 20px 28px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; } h2 { font-size: 17px; margin: 26px 0 8px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
table.scores td, table.stages td:nth-child(2), table.stages td:nth-child(3) { text-align: right; }
table.scores td:first-child { text-align: left; }
tr.mean { font-weight: bold; background: #f4f4f4; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { background: #fff; font-size: 11px; }
svg.chart .title { font-size: 13px; font-weight: bold; }
svg.chart .frame { fill: none; stroke: #888; } svg.chart .grid { stroke: #eee; }
.views { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; } figure img { display: block; max-width: 100%; }
figcaption { font-size: 12px; color: #444; }
)";

}  // namespace

std::string report_html(const RunReport& r) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>sparsplat: " +
                  html_escape(r.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<h1>sparsplat reconstruction: " + html_escape(r.title) + "</h1>\n";
  h += table(r.summary);
  // The curves before the per-view table, which runs to 25 rows on DTU.
  h += "<h2>Training</h2>\n" + charts(r.history);
  if (!r.scores.views.empty()) {
    h += "<h2>Test views</h2>\n";
    if (masked(r.scores))
      h += "<p>PSNR-M / SSIM-M: inside the object mask, as the published DTU tables score it.</p>\n";
    h += metrics_table(r);
  }
  h += "<h2>Time per stage</h2>\n" + stages_table(r.stages);
  if (!r.views.empty()) h += "<h2>Ground truth | render | error × 4</h2>\n" + images(r);
  h += "<h2>Options</h2>\n" + table(r.options);
  return h + "</body>\n</html>\n";
}

}  // namespace sp
