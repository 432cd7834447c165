#include "engine/render/rasterizer.h"

#include <string>

#include "engine/core/error.h"

namespace sp {

GaussianParams params_of(const GaussianModel& model) {
  GaussianParams p;
  p.count = model.size();
  p.sh_coeffs = model.sh_coeffs();
  p.extra_channels = model.extra_channels;
  p.means = model.means.data();
  p.log_scales = model.log_scales.data();
  p.rotations = model.rotations.data();
  p.opacities = model.opacities.data();
  p.sh = model.sh.data();
  p.extras = model.extras.empty() ? nullptr : model.extras.data();
  return p;
}

void check_render_inputs(const char* backend, const Camera& camera, size_t count, int sh_coeffs, int extra_channels,
                         bool have_arrays, bool have_extras, size_t max_count) {
  const std::string who = std::string(backend) + " rasterizer: ";
  if (camera.width <= 0 || camera.height <= 0)
    throw_internal(who + "camera '" + camera.name + "' has size " + std::to_string(camera.width) + "x" +
                   std::to_string(camera.height));
  if (count > 0 && !have_arrays) throw_internal(who + "Gaussian parameter arrays missing");
  if (sh_coeffs < 1) throw_internal(who + "sh_coeffs must be at least 1");
  if (extra_channels < 0 || (extra_channels > 0 && count > 0 && !have_extras))
    throw_internal(who + "extra channels declared but no extras array");
  if (count >= max_count) throw_internal(who + "too many Gaussians");
}

void check_gradient_image(const char* backend, const Image* image, int width, int height, int channels,
                          const char* what) {
  if (!image) return;
  if (image->width != width || image->height != height || image->channels != channels ||
      image->pixels.size() != size_t(width) * height * channels)
    throw_internal(std::string(backend) + " rasterizer backward: dL/d" + what + " is " + std::to_string(image->width) +
                   "x" + std::to_string(image->height) + "x" + std::to_string(image->channels) + ", expected " +
                   std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(channels));
}

}  // namespace sp
