#include "engine/scene/plane_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/rng.h"
#include "engine/scene/initialization.h"

namespace sp {
namespace {

std::vector<float> grey(const Image& img) {
  std::vector<float> g(img.pixel_count());
  for (size_t i = 0; i < g.size(); ++i) {
    const float* p = &img.pixels[i * size_t(img.channels)];
    g[i] = img.channels >= 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : p[0];
  }
  return g;
}

// Bilinear sample at continuous pixel coordinates (pixel i's centre at i); -1 outside.
float sample(const std::vector<float>& img, int w, int h, float x, float y) {
  if (!(x >= 0.0f && y >= 0.0f && x <= float(w - 1) && y <= float(h - 1))) return -1.0f;
  const int x0 = std::min(int(x), w - 2 < 0 ? 0 : w - 2), y0 = std::min(int(y), h - 2 < 0 ? 0 : h - 2);
  const float fx = x - float(x0), fy = y - float(y0);
  const float* r0 = &img[size_t(y0) * size_t(w) + size_t(x0)];
  const float* r1 = r0 + w;
  return (1 - fy) * ((1 - fx) * r0[0] + fx * r0[1]) + fy * ((1 - fx) * r1[0] + fx * r1[1]);
}

// Box sum over a (2r+1)^2 window with clamped borders, separable, in place into `out`.
void box_sum(const std::vector<float>& in, int w, int h, int r, std::vector<float>& tmp, std::vector<float>& out) {
  tmp.resize(in.size());
  out.resize(in.size());
  for (int y = 0; y < h; ++y) {
    const float* row = &in[size_t(y) * size_t(w)];
    float* t = &tmp[size_t(y) * size_t(w)];
    for (int x = 0; x < w; ++x) {
      float s = 0;
      for (int k = -r; k <= r; ++k) s += row[std::clamp(x + k, 0, w - 1)];
      t[x] = s;
    }
  }
  for (int y = 0; y < h; ++y) {
    float* o = &out[size_t(y) * size_t(w)];
    for (int x = 0; x < w; ++x) o[x] = 0;
    for (int k = -r; k <= r; ++k) {
      const float* t = &tmp[size_t(std::clamp(y + k, 0, h - 1)) * size_t(w)];
      for (int x = 0; x < w; ++x) o[x] += t[x];
    }
  }
}

glm::vec3 backproject(const Camera& c, float px, float py, float depth) {
  const glm::vec3 pc((px + 0.5f - c.cx) / c.fx * depth, (py + 0.5f - c.cy) / c.fy * depth, depth);
  return glm::transpose(c.R) * (pc - c.t);
}

// World point -> (pixel x, pixel y, depth) with pixel i's centre at i.
glm::vec3 project(const Camera& c, const glm::vec3& pw) {
  const glm::vec3 pc = c.to_camera(pw);
  return {c.fx * pc.x / pc.z + c.cx - 0.5f, c.fy * pc.y / pc.z + c.cy - 0.5f, pc.z};
}

}  // namespace

Image downsample_box(const Image& img, int factor) {
  if (factor <= 1) return img;
  const int w = img.width / factor, h = img.height / factor, nc = img.channels;
  Image out(w, h, nc);
  const float inv = 1.0f / float(factor * factor);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < nc; ++c) {
        float s = 0;
        for (int v = 0; v < factor; ++v)
          for (int u = 0; u < factor; ++u) s += img.at(x * factor + u, y * factor + v, c);
        out.at(x, y, c) = s * inv;
      }
  return out;
}

DepthMap plane_sweep_depth(const std::vector<Camera>& cameras, const std::vector<Image>& images, int ref,
                           float near_depth, float far_depth, const PlaneSweepOptions& o) {
  if (cameras.size() != images.size() || ref < 0 || size_t(ref) >= cameras.size())
    throw_internal("plane_sweep_depth: bad view lists");
  if (!(near_depth > 0 && far_depth > near_depth)) throw_internal("plane_sweep_depth: bad depth range");
  const Camera& rc = cameras[size_t(ref)];
  const int w = rc.width, h = rc.height, r = o.window_radius, D = std::max(2, o.depth_planes);
  // Each view has its own size and intrinsics (COLMAP's undistorter writes slightly different
  // sizes per image): the others are sampled in their own pixel grids.
  for (size_t i = 0; i < images.size(); ++i)
    if (images[i].width != cameras[i].width || images[i].height != cameras[i].height)
      throw_internal("plane_sweep_depth: an image is not at its camera's size");
  const size_t npx = size_t(w) * size_t(h);
  const float n_win = float((2 * r + 1) * (2 * r + 1));

  std::vector<std::vector<float>> g(images.size());
  for (size_t i = 0; i < images.size(); ++i) g[i] = grey(images[i]);
  const std::vector<float>& gr = g[size_t(ref)];
  // Reference window statistics, shared by every plane.
  std::vector<float> tmp, sum_r, sum_rr, rr(npx);
  for (size_t i = 0; i < npx; ++i) rr[i] = gr[i] * gr[i];
  box_sum(gr, w, h, r, tmp, sum_r);
  {
    std::vector<float> s;
    box_sum(rr, w, h, r, tmp, s);
    sum_rr.swap(s);
  }
  std::vector<float> var_r(npx);
  for (size_t i = 0; i < npx; ++i) {
    const float m = sum_r[i] / n_win;
    var_r[i] = std::max(0.0f, sum_rr[i] / n_win - m * m);
  }

  const float inv_near = 1.0f / near_depth, inv_far = 1.0f / far_depth;
  auto plane_depth = [&](float k) { return 1.0f / (inv_near + (inv_far - inv_near) * k / float(D - 1)); };
  // Per plane, per pixel: the best NCC over the other views (-1: seen by none).
  std::vector<float> cost(size_t(D) * npx, -1.0f);

#pragma omp parallel
  {
    std::vector<float> warped(npx), valid(npx), sw, sww, srw, prod(npx), t;
#pragma omp for schedule(dynamic)
    for (int k = 0; k < D; ++k) {
      const float d = plane_depth(float(k));
      float* ck = &cost[size_t(k) * npx];
      for (size_t s = 0; s < cameras.size(); ++s) {
        if (int(s) == ref) continue;
        const Camera& sc = cameras[s];
        const glm::mat3 Rrs = sc.R * glm::transpose(rc.R);
        const glm::vec3 trs = sc.t - Rrs * rc.t;
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            const glm::vec3 pr((float(x) + 0.5f - rc.cx) / rc.fx * d, (float(y) + 0.5f - rc.cy) / rc.fy * d, d);
            const glm::vec3 ps = Rrs * pr + trs;
            const size_t i = size_t(y) * size_t(w) + size_t(x);
            float v = -1.0f;
            if (ps.z > 1e-6f)
              v = sample(g[s], sc.width, sc.height, sc.fx * ps.x / ps.z + sc.cx - 0.5f, sc.fy * ps.y / ps.z + sc.cy - 0.5f);
            valid[i] = v >= 0.0f ? 1.0f : 0.0f;
            warped[i] = v >= 0.0f ? v : 0.0f;
          }
        for (size_t i = 0; i < npx; ++i) prod[i] = warped[i] * gr[i];
        box_sum(prod, w, h, r, t, srw);
        for (size_t i = 0; i < npx; ++i) prod[i] = warped[i] * warped[i];
        box_sum(prod, w, h, r, t, sww);
        box_sum(warped, w, h, r, t, sw);
        for (size_t i = 0; i < npx; ++i) {
          if (valid[i] == 0.0f) continue;
          const float mr = sum_r[i] / n_win, ms = sw[i] / n_win;
          const float vs = sww[i] / n_win - ms * ms;
          const float cov = srw[i] / n_win - mr * ms;
          const float denom = std::sqrt(std::max(var_r[i] * vs, 0.0f));
          // A flat source window cannot confirm anything.
          const float ncc = vs > o.min_texture * o.min_texture * 0.25f && denom > 1e-12f ? cov / denom : -1.0f;
          ck[i] = std::max(ck[i], ncc);
        }
      }
    }
  }

  DepthMap map;
  map.camera = rc;
  map.depth.assign(npx, 0.0f);
  map.score.assign(npx, -1.0f);
  const float min_var = o.min_texture * o.min_texture;
#pragma omp parallel for schedule(static)
  for (long li = 0; li < long(npx); ++li) {
    const size_t i = size_t(li);
    int best = -1;
    float bs = -1.0f;
    for (int k = 0; k < D; ++k) {
      const float c = cost[size_t(k) * npx + i];
      if (c > bs) {
        bs = c;
        best = k;
      }
    }
    map.score[i] = bs;
    if (best < 0 || bs < o.min_ncc || var_r[i] < min_var) continue;
    float kf = float(best);
    if (best > 0 && best < D - 1) {
      const float a = cost[size_t(best - 1) * npx + i], c = cost[size_t(best + 1) * npx + i];
      const float curv = a - 2 * bs + c;
      if (curv < 0) kf += std::clamp(0.5f * (a - c) / curv, -0.5f, 0.5f);
    }
    map.depth[i] = plane_depth(kf);
  }
  return map;
}

void filter_depth_consistency(std::vector<DepthMap>& maps, const PlaneSweepOptions& o) {
  std::vector<std::vector<uint8_t>> keep(maps.size());
  for (size_t r = 0; r < maps.size(); ++r) {
    const DepthMap& m = maps[r];
    const int w = m.width(), h = m.height();
    keep[r].assign(m.depth.size(), 0);
#pragma omp parallel for schedule(static)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = size_t(y) * size_t(w) + size_t(x);
        const float d = m.depth[i];
        if (d <= 0) continue;
        const glm::vec3 X = backproject(m.camera, float(x), float(y), d);
        int agree = 0;
        for (size_t s = 0; s < maps.size(); ++s) {
          if (s == r) continue;
          const DepthMap& n = maps[s];
          const glm::vec3 p = project(n.camera, X);
          if (p.z <= 0) continue;
          const int xs = int(std::lround(p.x)), ys = int(std::lround(p.y));
          if (xs < 0 || ys < 0 || xs >= n.width() || ys >= n.height()) continue;
          const float ds = n.depth[size_t(ys) * size_t(n.width()) + size_t(xs)];
          if (ds <= 0) continue;
          const glm::vec3 back = project(m.camera, backproject(n.camera, float(xs), float(ys), ds));
          const float dx = back.x - float(x), dy = back.y - float(y);
          if (dx * dx + dy * dy <= o.max_reprojection_px * o.max_reprojection_px &&
              std::abs(back.z - d) <= o.max_relative_depth * d)
            ++agree;
        }
        keep[r][i] = agree >= o.min_consistent_views ? 1 : 0;
      }
  }
  for (size_t r = 0; r < maps.size(); ++r)
    for (size_t i = 0; i < maps[r].depth.size(); ++i)
      if (!keep[r][i]) maps[r].depth[i] = 0.0f;
}

PointCloud fuse_depth_maps(const std::vector<DepthMap>& maps, const std::vector<Image>& images,
                           const PlaneSweepOptions& o) {
  PointCloud all;
  for (size_t v = 0; v < maps.size(); ++v) {
    const DepthMap& m = maps[v];
    const Image& img = images[v];
    for (int y = 0; y < m.height(); ++y)
      for (int x = 0; x < m.width(); ++x) {
        const float d = m.depth[size_t(y) * size_t(m.width()) + size_t(x)];
        if (d <= 0) continue;
        const glm::vec3 X = backproject(m.camera, float(x), float(y), d);
        all.xyz.insert(all.xyz.end(), {X.x, X.y, X.z});
        for (int c = 0; c < 3; ++c) all.rgb.push_back(img.at(x, y, std::min(c, img.channels - 1)));
      }
  }
  if (o.max_points == 0 || all.size() <= o.max_points) return all;
  // An even random subset (seeded): keeps the density ratios of the surfaces.
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), size_t(0));
  Rng rng(o.seed ^ 0x3175ULL);
  for (size_t i = 0; i < o.max_points; ++i) std::swap(order[i], order[i + size_t(rng.index(int(order.size() - i)))]);
  order.resize(o.max_points);
  std::sort(order.begin(), order.end());
  PointCloud out;
  for (size_t i : order)
    for (int c = 0; c < 3; ++c) {
      out.xyz.push_back(all.xyz[i * 3 + size_t(c)]);
      out.rgb.push_back(all.rgb[i * 3 + size_t(c)]);
    }
  return out;
}

PointCloud mvs_points(const Dataset& dataset, const PlaneSweepOptions& options, std::vector<DepthMap>* depth_maps) {
  if (dataset.train_ids.size() < 2) throw_bad_input(dataset.root, "multi-view stereo initialization needs at least 2 train views");
  const auto t0 = std::chrono::steady_clock::now();
  PlaneSweepOptions o = options;
  if (!(o.near_depth > 0 && o.far_depth > o.near_depth)) estimate_depth_range(dataset, o.near_depth, o.far_depth);
  std::vector<Camera> cams;
  std::vector<Image> imgs;
  for (int id : dataset.train_ids) {
    const Camera& c = dataset.cameras[size_t(id)];
    const int longest = std::max(c.width, c.height);
    const int factor = o.max_side > 0 ? std::max(1, (longest + o.max_side - 1) / o.max_side) : 1;
    Image img = downsample_box(dataset.image(id), factor);
    // Box downsampling by f keeps pixel i covering [f i, f (i + 1)): intrinsics scale by 1/f.
    Camera rc = c;
    rc.width = img.width;
    rc.height = img.height;
    rc.fx /= float(factor);
    rc.fy /= float(factor);
    rc.cx /= float(factor);
    rc.cy /= float(factor);
    cams.push_back(rc);
    imgs.push_back(std::move(img));
  }
  std::vector<DepthMap> maps;
  for (size_t r = 0; r < cams.size(); ++r)
    maps.push_back(plane_sweep_depth(cams, imgs, int(r), o.near_depth, o.far_depth, o));
  size_t swept = 0, total = 0;
  for (const auto& m : maps)
    for (float d : m.depth) {
      swept += d > 0;
      ++total;
    }
  filter_depth_consistency(maps, o);
  size_t kept = 0;
  for (const auto& m : maps)
    for (float d : m.depth) kept += d > 0;
  PointCloud pc = fuse_depth_maps(maps, imgs, o);
  if (depth_maps) *depth_maps = maps;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char line[256];
  std::snprintf(line, sizeof line,
                "mvs init: %zu views at %dx%d, %d planes in depth [%.3g, %.3g]: %.1f%% of pixels matched, %.1f%% "
                "consistent, %zu points (%.1f s)",
                cams.size(), cams[0].width, cams[0].height, o.depth_planes, o.near_depth, o.far_depth,
                100.0 * double(swept) / double(std::max<size_t>(1, total)),
                100.0 * double(kept) / double(std::max<size_t>(1, total)), pc.size(), secs);
  log_info(line);
  return pc;
}

}  // namespace sp
