#include "engine/prior/refinement.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "engine/train/pseudo_views.h"

namespace sp::prior {

namespace {

// Bilinear resample (references normally share the pseudo view's size already).
Image resample(const Image& src, int w, int h) {
  if (src.width == w && src.height == h) return src;
  Image out(w, h, src.channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float sx = std::clamp((x + 0.5f) * src.width / w - 0.5f, 0.0f, float(src.width - 1));
      const float sy = std::clamp((y + 0.5f) * src.height / h - 0.5f, 0.0f, float(src.height - 1));
      const int x0 = int(sx), y0 = int(sy), x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
      const float fx = sx - x0, fy = sy - y0;
      for (int c = 0; c < src.channels; ++c)
        out.at(x, y, c) = (1 - fy) * ((1 - fx) * src.at(x0, y0, c) + fx * src.at(x1, y0, c)) +
                          fy * ((1 - fx) * src.at(x0, y1, c) + fx * src.at(x1, y1, c));
    }
  return out;
}

glm::vec3 view_direction(const Camera& c) { return glm::transpose(c.R) * glm::vec3(0, 0, 1); }

}  // namespace

Image pseudo_target_mask(const Image& render, const Image& refined, const Image& alpha, float alpha_threshold,
                         float min_change) {
  if (render.channels != 3 || refined.channels != 3 || alpha.channels != 1 || render.width != refined.width ||
      render.height != refined.height || alpha.width != render.width || alpha.height != render.height)
    throw_bad_input("pseudo_target_mask", "render, refined (3 channels) and alpha (1 channel) must share a size");
  const int w = render.width, h = render.height;
  Image mask(w, h, 1);
  for (size_t i = 0; i < mask.pixels.size(); ++i) mask.pixels[i] = alpha.pixels[i] >= alpha_threshold ? 1.0f : 0.0f;
  if (min_change <= 0) return mask;
  Image change(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float d = 0;
      for (int c = 0; c < 3; ++c) d += std::abs(refined.at(x, y, c) - render.at(x, y, c));
      change.at(x, y, 0) = d / 3.0f;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float sum = 0;
      int n = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          sum += change.at(xx, yy, 0);
          ++n;
        }
      if (sum / float(n) < min_change) mask.at(x, y, 0) = 0.0f;
    }
  return mask;
}

bool refinement_due(const RefinementOptions& o, long iteration) {
  if (o.every <= 0 || iteration < o.start_iteration) return false;
  return (iteration - o.start_iteration) % o.every == 0;
}

float refinement_strength(const RefinementOptions& o, long iteration, long total) {
  if (total <= o.start_iteration) return o.strength_start;
  const float f = std::clamp(float(iteration - o.start_iteration) / float(total - o.start_iteration), 0.0f, 1.0f);
  return o.strength_start + f * (o.strength_end - o.strength_start);
}

int nearest_camera(const Camera& camera, const std::vector<Camera>& train) {
  if (train.empty()) throw_bad_input("nearest_camera", "no train cameras");
  int best = 0;
  float best_cost = std::numeric_limits<float>::max();
  const glm::vec3 c = camera.center(), d = view_direction(camera);
  for (size_t i = 0; i < train.size(); ++i) {
    // centre distance, plus the angle between viewing directions in the same units (radians x scene scale)
    const float dist = glm::length(train[i].center() - c);
    const float angle = std::acos(std::clamp(glm::dot(view_direction(train[i]), d), -1.0f, 1.0f));
    const float cost = dist + angle * std::max(1e-3f, glm::length(c));
    if (cost < best_cost) best_cost = cost, best = int(i);
  }
  return best;
}

std::vector<Camera> refinement_cameras(const RefinementOptions& o, const std::vector<Camera>& train, int round) {
  if (o.target_poses.empty()) return interpolated_pseudo_cameras(train, o.views, o.seed + 7919u * uint64_t(round + 1));
  std::vector<Camera> out;
  const float t = std::min(1.0f, o.pose_fraction * float(round + 1));
  for (const Camera& target : o.target_poses) {
    const Camera& from = train[size_t(nearest_camera(target, train))];
    Camera c = camera_toward(from, target, t);
    c = c.resized(target.width, target.height);
    c.name = "toward_" + target.name;
    out.push_back(c);
  }
  return out;
}

std::vector<RefinedView> refine_pseudo_views(Denoiser& denoiser, Rasterizer& rasterizer, const GaussianParams& params,
                                             const RenderOptions& ro, const std::vector<Camera>& train_cameras,
                                             const std::vector<const Image*>& train_images,
                                             const RefinementOptions& o, long iteration, long total_iterations,
                                             int round) {
  if (train_images.size() != train_cameras.size())
    throw_bad_input("refine_pseudo_views", "one train image per train camera");
  std::vector<RefinedView> views;
  SamplerOptions so = o.sampler;
  so.strength = refinement_strength(o, iteration, total_iterations);
  const std::vector<Camera> cameras = refinement_cameras(o, train_cameras, round);
  for (size_t k = 0; k < cameras.size(); ++k) {
    RefinedView v;
    v.camera = cameras[k];
    RenderOutput out = rasterizer.forward(v.camera, params, ro);
    v.render = std::move(out.color);
    const int near = nearest_camera(v.camera, train_cameras);
    const Image reference = resample(*train_images[size_t(near)], v.render.width, v.render.height);
    so.seed = o.seed + uint64_t(round) * 1000003u + k;
    v.refined = refine_image(denoiser, v.render, &reference, so);
    v.mask = pseudo_target_mask(v.render, v.refined, out.alpha, o.alpha_threshold, o.min_change);
    views.push_back(std::move(v));
  }
  return views;
}

}  // namespace sp::prior
