// The viewer's CPU drawing path: tile rasterizer forward + upscale to RGBA8 (cpu_frame_renderer.h).
#include "engine/display/cpu_frame_renderer.h"

#include <algorithm>
#include <cmath>

#include <omp.h>

#include "engine/core/error.h"
#include "engine/render/tile_rasterizer_cpu.h"

namespace sp {

namespace {
inline uint8_t to_unorm8(float v) { return uint8_t(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }
}  // namespace

void upscale_to_rgba8(const float* rgb, int src_w, int src_h, int dst_w, int dst_h, uint8_t* rgba) {
  if (src_w <= 0 || src_h <= 0 || dst_w <= 0 || dst_h <= 0) throw_internal("upscale_to_rgba8: empty image");
  if (src_w == dst_w && src_h == dst_h) {
    const ptrdiff_t n = ptrdiff_t(dst_w) * dst_h;
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (ptrdiff_t p = 0; p < n; ++p) {
      for (int c = 0; c < 3; ++c) rgba[p * 4 + c] = to_unorm8(rgb[p * 3 + c]);
      rgba[p * 4 + 3] = 255;
    }
    return;
  }
  // Per destination column: the two source columns and the weight of the right one.
  const size_t columns = size_t(dst_w);
  std::vector<int> x0(columns), x1(columns);
  std::vector<float> wx(columns);
  const float sx = float(src_w) / float(dst_w), sy = float(src_h) / float(dst_h);
  for (int x = 0; x < dst_w; ++x) {
    const float u = std::clamp((float(x) + 0.5f) * sx - 0.5f, 0.0f, float(src_w - 1));
    x0[size_t(x)] = int(u);
    x1[size_t(x)] = std::min(x0[size_t(x)] + 1, src_w - 1);
    wx[size_t(x)] = u - float(x0[size_t(x)]);
  }
#pragma omp parallel for schedule(static) if (ptrdiff_t(dst_w) * dst_h >= 65536)
  for (int y = 0; y < dst_h; ++y) {
    const float v = std::clamp((float(y) + 0.5f) * sy - 0.5f, 0.0f, float(src_h - 1));
    const int y0 = int(v), y1 = std::min(y0 + 1, src_h - 1);
    const float wy = v - float(y0);
    const float* row0 = rgb + size_t(y0) * src_w * 3;
    const float* row1 = rgb + size_t(y1) * src_w * 3;
    uint8_t* out = rgba + size_t(y) * dst_w * 4;
    for (int x = 0; x < dst_w; ++x) {
      const size_t a = size_t(x0[size_t(x)]) * 3, b = size_t(x1[size_t(x)]) * 3;
      const float w = wx[size_t(x)];
      for (int c = 0; c < 3; ++c) {
        const float top = row0[a + c] + w * (row0[b + c] - row0[a + c]);
        const float bottom = row1[a + c] + w * (row1[b + c] - row1[a + c]);
        out[size_t(x) * 4 + c] = to_unorm8(top + wy * (bottom - top));
      }
      out[size_t(x) * 4 + 3] = 255;
    }
  }
}

struct CpuFrameRenderer::State {
  TileRasterizerT<float> rasterizer;  // keeps its scratch buffers between frames
  TileRenderT<float> output;          // reused: no per-frame allocation once sized
  std::vector<float> scaled_log_scales;
  float scaled_for = 1.0f;            // splat scale scaled_log_scales was made for
};

CpuFrameRenderer::CpuFrameRenderer(const GaussianModel& model) : model_(model), state_(std::make_unique<State>()) {}
CpuFrameRenderer::~CpuFrameRenderer() = default;

int CpuFrameRenderer::threads() { return omp_get_max_threads(); }

glm::ivec2 CpuFrameRenderer::scaled_size(int window_w, int window_h, float scale) {
  return {std::max(1, int(std::lround(float(window_w) * scale))), std::max(1, int(std::lround(float(window_h) * scale)))};
}

void CpuFrameRenderer::render(const Camera& window_camera, float scale, const CpuFrameSettings& settings,
                              uint8_t* rgba) {
  const int W = window_camera.width, H = window_camera.height;
  scale = std::clamp(scale, 0.01f, 1.0f);
  const glm::ivec2 size = scaled_size(W, H, scale);
  const Camera camera = size == glm::ivec2(W, H) ? window_camera : window_camera.resized(size.x, size.y);

  GaussianParams params;
  params.count = model_.size();
  params.sh_coeffs = model_.sh_coeffs();
  params.means = model_.means.data();
  params.log_scales = model_.log_scales.data();
  params.rotations = model_.rotations.data();
  params.opacities = model_.opacities.data();
  params.sh = model_.sh.data();
  if (settings.splat_scale != 1.0f) {
    // The slider multiplies every axis' scale: add its log once per slider value, not per frame.
    State& s = *state_;
    if (s.scaled_for != settings.splat_scale || s.scaled_log_scales.size() != model_.log_scales.size()) {
      const float add = std::log(std::max(settings.splat_scale, 1e-6f));
      s.scaled_log_scales.resize(model_.log_scales.size());
      for (size_t i = 0; i < s.scaled_log_scales.size(); ++i) s.scaled_log_scales[i] = model_.log_scales[i] + add;
      s.scaled_for = settings.splat_scale;
    }
    params.log_scales = s.scaled_log_scales.data();
  }
  RenderOptions options;
  options.sh_degree = std::clamp(settings.sh_degree, 0, model_.sh_degree);
  options.background = settings.background;
  options.near_plane = settings.near_plane;
  state_->rasterizer.forward(camera, params, options, state_->output);
  last_visible_ = size_t(std::count_if(state_->output.radii.begin(), state_->output.radii.end(), [](int r) { return r > 0; }));
  upscale_to_rgba8(state_->output.color.data(), size.x, size.y, W, H, rgba);
}

}  // namespace sp
