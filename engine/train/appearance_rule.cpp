#include "engine/train/appearance_rule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

namespace sp {

namespace {

// log of a channel with a floor, so black pixels do not dominate.
double safe_log(float v) { return std::log(double(std::max(v, 0.0f)) + 0.02); }

struct Feature {
  double lum, rg, bg;
};
Feature feature_of(const float* rgb) {
  const float lum = 0.2126f * rgb[0] + 0.7152f * rgb[1] + 0.0722f * rgb[2];
  return {safe_log(lum), safe_log(rgb[0]) - safe_log(rgb[1]), safe_log(rgb[2]) - safe_log(rgb[1])};
}

// Chromaticity is noise in near-black pixels and clipped in near-white ones.
bool well_exposed(double log_lum) { return log_lum > std::log(0.1 + 0.02) && log_lum < std::log(0.9 + 0.02); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t k = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

double spread(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return *hi - *lo;
}

constexpr size_t kMinPointsPerPhoto = 30;

}  // namespace

std::string AppearanceSpread::describe() const {
  char line[200];
  if (photos < 2) {
    std::snprintf(line, sizeof line, "%zu of the train photos share >= %zu SfM points with another: nothing to compare",
                  photos, kMinPointsPerPhoto);
    return line;
  }
  std::snprintf(line, sizeof line,
                "exposure spread %.3f (limit %.2f), colour spread %.3f (limit %.2f) over %zu point observations in %zu "
                "photos",
                exposure, kExposureSpread, colour, kColourSpread, samples, photos);
  return line;
}

AppearanceSpread measure_appearance_spread(const Dataset& data) {
  AppearanceSpread s;
  const std::vector<int>& ids = data.train_ids;
  const PointCloud& pc = data.points;
  if (ids.size() < 2 || pc.size() == 0) return s;
  // Where each point lands in each train photo, and whether it is the nearest point there
  // (a coarse depth buffer of the points themselves: tracks, when a format has them, may
  // still name photos where the point is hidden).
  constexpr int kCell = 4;         // pixels per depth-buffer cell
  constexpr float kDepthSlack = 1.05f;
  struct Hit {
    int u = -1, v = -1;
    float z = 0;
  };
  std::vector<std::vector<Hit>> hits(ids.size(), std::vector<Hit>(pc.size()));
  std::vector<std::shared_ptr<const Image>> photos;
  for (size_t k = 0; k < ids.size(); ++k) {
    const Camera& c = data.cameras[size_t(ids[k])];
    photos.push_back(data.image_ptr(ids[k]));
    const int gw = (c.width + kCell - 1) / kCell, gh = (c.height + kCell - 1) / kCell;
    std::vector<float> nearest(size_t(gw) * size_t(gh), std::numeric_limits<float>::infinity());
    for (size_t p = 0; p < pc.size(); ++p) {
      if (pc.has_tracks && !std::binary_search(pc.tracks[p].begin(), pc.tracks[p].end(), ids[k])) continue;
      const glm::vec3 q = c.to_camera(glm::vec3(pc.xyz[3 * p], pc.xyz[3 * p + 1], pc.xyz[3 * p + 2]));
      if (!(q.z > 1e-6f)) continue;
      const int u = int(std::floor(c.fx * q.x / q.z + c.cx)), v = int(std::floor(c.fy * q.y / q.z + c.cy));
      if (u < 0 || v < 0 || u >= c.width || v >= c.height) continue;
      hits[k][p] = {u, v, q.z};
      float& z = nearest[size_t(v / kCell) * size_t(gw) + size_t(u / kCell)];
      z = std::min(z, q.z);
    }
    for (Hit& h : hits[k])
      if (h.u >= 0 && h.z > kDepthSlack * nearest[size_t(h.v / kCell) * size_t(gw) + size_t(h.u / kCell)]) h.u = -1;
  }
  std::vector<std::vector<double>> off_lum(ids.size()), off_rg(ids.size()), off_bg(ids.size());
  for (size_t p = 0; p < pc.size(); ++p) {
    std::vector<std::pair<size_t, Feature>> seen;
    for (size_t k = 0; k < ids.size(); ++k) {
      const Hit& h = hits[k][p];
      if (h.u < 0) continue;
      const Image& im = *photos[k];
      seen.emplace_back(k, feature_of(&im.pixels[(size_t(h.v) * size_t(im.width) + size_t(h.u)) * 3]));
    }
    if (seen.size() < 2) continue;
    Feature mean{0, 0, 0};
    for (const auto& [k, f] : seen) mean.lum += f.lum, mean.rg += f.rg, mean.bg += f.bg;
    const double n = double(seen.size());
    if (!well_exposed(mean.lum / n)) continue;
    for (const auto& [k, f] : seen) {
      off_lum[k].push_back(f.lum - mean.lum / n);
      off_rg[k].push_back(f.rg - mean.rg / n);
      off_bg[k].push_back(f.bg - mean.bg / n);
      ++s.samples;
    }
  }
  std::vector<double> lum, rg, bg;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (off_lum[k].size() < kMinPointsPerPhoto) continue;  // too few shared surfaces to say anything
    lum.push_back(median(off_lum[k]));
    rg.push_back(median(off_rg[k]));
    bg.push_back(median(off_bg[k]));
  }
  s.photos = lum.size();
  s.exposure = spread(lum);
  s.colour = std::max(spread(rg), spread(bg));
  return s;
}

}  // namespace sp
