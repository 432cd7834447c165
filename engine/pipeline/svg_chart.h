#pragma once
// Line charts as inline SVG, for report.html: no script and no library, so the report is one
// self-contained file that any browser shows offline.
#include <string>
#include <vector>

namespace sp {

struct ChartSeries {
  std::string label;
  std::string colour;            // any SVG colour ("#1f77b4")
  std::vector<double> x, y;      // same length; non-finite points are left out
  bool markers = false;          // a dot at every point (sparse series: held-out checkpoints)
};

struct ChartOptions {
  std::string title, x_label, y_label;
  int width = 460, height = 280;  // pixels
};

// One chart: axes with rounded ticks over the data's range, one polyline per series, a
// legend when there are two or more. A chart with no finite point says "no data".
std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options);

// Tick values covering [lo, hi] at a 1, 2 or 5 × 10^k step, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// `text` with &, <, >, " and ' escaped for HTML and SVG.
std::string html_escape(const std::string& text);

}  // namespace sp
