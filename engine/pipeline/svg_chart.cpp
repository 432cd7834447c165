#include "engine/pipeline/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace sp {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(std::isfinite(lo) && std::isfinite(hi))) return {};
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= 0) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;  // the 1-2-5 step nearest (by ratio) to the raw one
  for (double m : {2.0, 5.0, 10.0})
    if (std::abs(std::log(m * magnitude / raw)) < std::abs(std::log(step / raw))) step = m * magnitude;
  std::vector<double> ticks;
  // Half a step of slack either way so that rounding never drops an end tick.
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

namespace {

// Axis labels: one unit per axis, so 19.05k sits beside 19.1k rather than beside 19050.
std::string axis_number(double v, double axis_max) {
  char buf[32];
  if (axis_max >= 1e6)
    std::snprintf(buf, sizeof buf, "%.4gM", v / 1e6);
  else if (axis_max >= 1e4)
    std::snprintf(buf, sizeof buf, "%.4gk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& o) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const ChartSeries& s : series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
      }
  const int w = o.width, h = o.height;
  const double left = 58, right = 20, top = 26, bottom = 40;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + std::to_string(w) +
                    "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(w) + " " +
                    std::to_string(h) + "\">\n";
  svg += "<text x=\"" + fmt(w / 2.0) + "\" y=\"16\" text-anchor=\"middle\" class=\"title\">" + html_escape(o.title) +
         "</text>\n";
  if (!std::isfinite(x0)) {
    svg += "<text x=\"" + fmt(w / 2.0) + "\" y=\"" + fmt(h / 2.0) + "\" text-anchor=\"middle\">no data</text>\n</svg>\n";
    return svg;
  }
  // Flat data still needs a span; pad the y range a little so lines do not sit on the frame.
  if (x1 - x0 <= 0) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 <= 0) {
    const double pad = std::max(std::abs(y0) * 0.05, 0.5);
    y0 -= pad, y1 += pad;
  } else {
    const double pad = (y1 - y0) * 0.05;
    y0 -= pad, y1 += pad;
  }
  // Headroom for the legend, so that no line runs under it.
  if (series.size() > 1) y1 += (y1 - y0) * 0.08 * double(series.size());
  const double pw = w - left - right, ph = h - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * ph; };

  svg += "<rect x=\"" + fmt(left) + "\" y=\"" + fmt(top) + "\" width=\"" + fmt(pw) + "\" height=\"" + fmt(ph) +
         "\" class=\"frame\"/>\n";
  const double x_max = std::max(std::abs(x0), std::abs(x1)), y_max = std::max(std::abs(y0), std::abs(y1));
  for (double t : nice_ticks(x0, x1)) {
    svg += "<line x1=\"" + fmt(px(t)) + "\" y1=\"" + fmt(top) + "\" x2=\"" + fmt(px(t)) + "\" y2=\"" + fmt(top + ph) +
           "\" class=\"grid\"/><text x=\"" + fmt(px(t)) + "\" y=\"" + fmt(top + ph + 14) +
           "\" text-anchor=\"middle\">" + axis_number(t, x_max) + "</text>\n";
  }
  for (double t : nice_ticks(y0, y1)) {
    svg += "<line x1=\"" + fmt(left) + "\" y1=\"" + fmt(py(t)) + "\" x2=\"" + fmt(left + pw) + "\" y2=\"" +
           fmt(py(t)) + "\" class=\"grid\"/><text x=\"" + fmt(left - 5) + "\" y=\"" + fmt(py(t) + 4) +
           "\" text-anchor=\"end\">" + axis_number(t, y_max) + "</text>\n";
  }
  svg += "<text x=\"" + fmt(left + pw / 2) + "\" y=\"" + fmt(h - 6.0) + "\" text-anchor=\"middle\">" +
         html_escape(o.x_label) + "</text>\n";
  svg += "<text transform=\"translate(13 " + fmt(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         html_escape(o.y_label) + "</text>\n";
  for (const ChartSeries& s : series) {
    std::string points;
    std::string dots;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!(std::isfinite(s.x[i]) && std::isfinite(s.y[i]))) continue;
      points += fmt(px(s.x[i])) + "," + fmt(py(s.y[i])) + " ";
      if (s.markers)
        dots += "<circle cx=\"" + fmt(px(s.x[i])) + "\" cy=\"" + fmt(py(s.y[i])) + "\" r=\"3.5\" fill=\"" +
                html_escape(s.colour) + "\"/>";
    }
    if (points.empty()) continue;
    svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + html_escape(s.colour) + "\" points=\"" + points +
           "\"><title>" + html_escape(s.label) + "</title></polyline>" + dots + "\n";
  }
  if (series.size() > 1) {
    double ly = top + 14;
    for (const ChartSeries& s : series) {
      svg += "<rect x=\"" + fmt(left + 8) + "\" y=\"" + fmt(ly - 9) + "\" width=\"12\" height=\"4\" fill=\"" +
             html_escape(s.colour) + "\"/><text x=\"" + fmt(left + 24) + "\" y=\"" + fmt(ly - 4) + "\">" +
             html_escape(s.label) + "</text>\n";
      ly += 15;
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace sp
