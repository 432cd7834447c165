#include "engine/language/ovs_eval.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/image_io.h"

namespace sp {

double mask_iou(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) throw_internal("mask_iou: masks of different sizes");
  size_t inter = 0, uni = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    inter += (a[i] && b[i]) ? 1 : 0;
    uni += (a[i] || b[i]) ? 1 : 0;
  }
  return uni == 0 ? 1.0 : double(inter) / double(uni);
}

std::array<int, 4> mask_bbox(const std::vector<uint8_t>& m, int W, int H) {
  std::array<int, 4> b = {W, H, -1, -1};
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      if (m[size_t(y) * W + x]) b = {std::min(b[0], x), std::min(b[1], y), std::max(b[2], x), std::max(b[3], y)};
  if (b[2] < 0) return {-1, -1, -1, -1};
  return b;
}

bool point_in_box(int x, int y, const std::array<int, 4>& b) {
  return b[2] >= 0 && x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
}
bool point_in_box(double x, double y, const std::array<double, 4>& b) {
  return x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
}

void fill_polygon(const std::vector<std::array<double, 2>>& poly, double sx, double sy, int W, int H,
                  std::vector<uint8_t>& mask) {
  mask.resize(size_t(W) * H, 0);
  const size_t n = poly.size();
  if (n < 3) return;
  std::vector<double> xs;
  for (int y = 0; y < H; ++y) {
    const double py = (double(y) + 0.5) / sy;  // pixel centre in label coordinates
    xs.clear();
    for (size_t i = 0; i < n; ++i) {
      const auto& a = poly[i];
      const auto& b = poly[(i + 1) % n];
      if ((a[1] <= py) != (b[1] <= py)) xs.push_back(a[0] + (py - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2)
      for (int x = 0; x < W; ++x) {
        const double px = (double(x) + 0.5) / sx;
        if (px >= xs[k] && px < xs[k + 1]) mask[size_t(y) * W + x] = 1;
      }
  }
}

LerfFrame read_lerf_frame(const std::string& path, int width, int height) {
  std::ifstream f(path);
  if (!f) throw_bad_input(path, "LERF label file not found");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    throw_bad_input(path, std::string("not valid JSON: ") + e.what());
  }
  LerfFrame fr;
  try {
    fr.width = j.at("info").at("width").get<int>();
    fr.height = j.at("info").at("height").get<int>();
    if (fr.width <= 0 || fr.height <= 0 || fr.width > 100000 || fr.height > 100000)
      throw_bad_input(path, "info.width/height out of range");
    const int W = width > 0 ? width : fr.width, H = height > 0 ? height : fr.height;
    const double sx = double(W) / fr.width, sy = double(H) / fr.height;
    for (const auto& o : j.at("objects")) {
      const std::string cat = o.at("category").get<std::string>();
      LerfCategory& c = fr.categories[cat];
      if (c.mask.empty()) c.mask.assign(size_t(W) * H, 0);
      std::vector<std::array<double, 2>> poly;
      for (const auto& p : o.at("segmentation")) poly.push_back({p.at(0).get<double>(), p.at(1).get<double>()});
      std::vector<uint8_t> m;
      fill_polygon(poly, sx, sy, W, H, m);
      for (size_t i = 0; i < m.size(); ++i) c.mask[i] |= m[i];
      const auto& b = o.at("bbox");
      c.boxes.push_back({b.at(0).get<double>() * sx, b.at(1).get<double>() * sy, b.at(2).get<double>() * sx,
                         b.at(3).get<double>() * sy});
    }
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(path, std::string("unexpected LERF label layout: ") + e.what());
  }
  return fr;
}

std::map<std::string, std::vector<uint8_t>> read_ovs_masks(const std::string& dir, int W, int H) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw_bad_input(dir, "3D-OVS mask folder not found");
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".png") continue;
    Image m = load_image(e.path().string(), 1);
    if (m.width != W || m.height != H) m = resize_image(m, W, H);
    std::vector<uint8_t> b(size_t(W) * H);
    for (size_t i = 0; i < b.size(); ++i) b[i] = m.pixels[i] > 0.5f ? 1 : 0;
    out[e.path().stem().string()] = std::move(b);
  }
  return out;
}

}  // namespace sp
