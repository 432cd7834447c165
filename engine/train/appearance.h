#pragma once
// Per-image appearance (docs/in_the_wild.md): each train photo gets an affine colour
// transform applied to the rendered colour before the photometric loss,
//   out = A c + b,   code = [A row-major (9), b (3)],   identity at the start,
// so exposure, white balance and tone of one photo do not have to be painted into the
// Gaussians. The codes have a gauge freedom (a transform common to every code can move into
// the Gaussians' colours): after each update they are projected so that their mean is the
// identity, which makes the identity code the photos' average look (what the test views and
// `render` without a code show).
#include <cstddef>
#include <string>
#include <vector>

#include <glm/glm.hpp>

#include "engine/core/image.h"
#include "engine/model/gaussian_model.h"

namespace sp {

constexpr int kAppearanceParams = 12;

// The transform and its backward pass on raw HWC RGB arrays (float for training, double for
// the finite-difference check). apply: out[p] = A in[p] + b, with `clip` clamped to [0, 1]
// as a camera clips (training compares with photos whose highlights and shadows are
// clipped; without the clamp a bright photo's code is pulled toward a lower gain by its
// saturated pixels). backward: given dL/d(out), writes dL/d(in) = Aᵀ dL/d(out) (when
// grad_in is not null) and adds dL/d(code) = [Σ_p dL/dout_p in_pᵀ, Σ_p dL/dout_p] into
// grad_code; with `clip`, an output channel outside [0, 1] passes no gradient.
template <class T>
void apply_affine_colour(const T* code, const T* in, T* out, size_t pixels, bool clip = false);
template <class T>
void affine_colour_backward(const T* code, const T* in, const T* grad_out, T* grad_in, T* grad_code, size_t pixels,
                            bool clip = false);

Image apply_affine_colour(const std::vector<float>& code, const Image& rgb, bool clip = false);

// One code per train view, in the order of the dataset's train ids.
struct AppearanceCodes {
  std::vector<std::string> names;  // the train images' names (what the codes belong to)
  std::vector<float> values;       // names.size() x kAppearanceParams
  size_t size() const { return names.size(); }
  std::vector<float> code(size_t i) const;
  void set_code(size_t i, const std::vector<float>& code);
  // Index of the code of image `name` (file name, or its stem); -1 when none.
  int find(const std::string& name) const;
};
std::vector<float> identity_appearance_code();
AppearanceCodes identity_appearance_codes(const std::vector<std::string>& names);

// Moves every code by the same amount so that the mean of A is the identity and the mean of
// b is zero (the gauge, see above).
void project_mean_identity(AppearanceCodes& codes);

// Adam on one code at a time (its view's step): each code keeps its own moments and step
// count, so a code moves only when its photo is trained on.
struct AppearanceAdam {
  std::vector<float> m, v;
  std::vector<long> steps;
  void reset(size_t codes);
  // Returns false when the gradient or the result is not finite (nothing is changed then).
  bool step(AppearanceCodes& codes, size_t index, const float* grad, float lr);
};

// The model whose renders are a code's transform of this one's (the viewer's appearance
// picker): every SH coefficient's RGB goes through A and the DC term absorbs the offset, so
// each Gaussian's colour becomes A c + b. Rendered over recolour_background(bg, code), a
// pixel is then exactly A (the pixel over bg) + b, before any clamp (a Gaussian whose colour
// would go below 0 is clamped there by the rasterizer, as always).
GaussianModel recolour_model(const GaussianModel& model, const std::vector<float>& code);
glm::vec3 recolour_background(const glm::vec3& background, const std::vector<float>& code);

// The side file of a trained model (appearance.json beside point_cloud.ply): kind "affine",
// the train images' names and their codes. read throws BadInput naming the file.
void write_appearance_codes(const std::string& path, const AppearanceCodes& codes);
AppearanceCodes read_appearance_codes(const std::string& path);

}  // namespace sp
