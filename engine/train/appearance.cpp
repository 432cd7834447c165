#include "engine/train/appearance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"

namespace sp {

template <class T>
void apply_affine_colour(const T* code, const T* in, T* out, size_t pixels, bool clip) {
  const T* A = code;
  const T* b = code + 9;
  for (size_t p = 0; p < pixels; ++p) {
    const T r = in[3 * p], g = in[3 * p + 1], bl = in[3 * p + 2];
    for (int i = 0; i < 3; ++i) {
      const T o = A[3 * i] * r + A[3 * i + 1] * g + A[3 * i + 2] * bl + b[i];
      out[3 * p + size_t(i)] = clip ? std::clamp(o, T(0), T(1)) : o;
    }
  }
}

template <class T>
void affine_colour_backward(const T* code, const T* in, const T* grad_out, T* grad_in, T* grad_code, size_t pixels,
                            bool clip) {
  const T* A = code;
  const T* b = code + 9;
  // Summed in double in pixel order: the same result for any thread count.
  double gA[9] = {}, gb[3] = {};
  for (size_t p = 0; p < pixels; ++p) {
    const T* c = in + 3 * p;
    T g[3] = {grad_out[3 * p], grad_out[3 * p + 1], grad_out[3 * p + 2]};
    if (clip)
      for (int i = 0; i < 3; ++i) {
        const T o = A[3 * i] * c[0] + A[3 * i + 1] * c[1] + A[3 * i + 2] * c[2] + b[i];
        if (o < T(0) || o > T(1)) g[i] = 0;
      }
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) gA[3 * i + j] += double(g[i]) * double(c[j]);
      gb[i] += double(g[i]);
    }
    if (grad_in)
      for (int j = 0; j < 3; ++j) grad_in[3 * p + size_t(j)] = A[j] * g[0] + A[3 + j] * g[1] + A[6 + j] * g[2];
  }
  for (int k = 0; k < 9; ++k) grad_code[k] += T(gA[k]);
  for (int k = 0; k < 3; ++k) grad_code[9 + k] += T(gb[k]);
}

template void apply_affine_colour<float>(const float*, const float*, float*, size_t, bool);
template void apply_affine_colour<double>(const double*, const double*, double*, size_t, bool);
template void affine_colour_backward<float>(const float*, const float*, const float*, float*, float*, size_t, bool);
template void affine_colour_backward<double>(const double*, const double*, const double*, double*, double*, size_t, bool);

Image apply_affine_colour(const std::vector<float>& code, const Image& rgb, bool clip) {
  if (code.size() != size_t(kAppearanceParams) || rgb.channels != 3)
    throw_internal("apply_affine_colour: needs a 12-value code and an RGB image");
  Image out(rgb.width, rgb.height, 3);
  apply_affine_colour(code.data(), rgb.pixels.data(), out.pixels.data(), rgb.pixel_count(), clip);
  return out;
}

std::vector<float> identity_appearance_code() { return {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}; }

AppearanceCodes identity_appearance_codes(const std::vector<std::string>& names) {
  AppearanceCodes c;
  c.names = names;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto id = identity_appearance_code();
    c.values.insert(c.values.end(), id.begin(), id.end());
  }
  return c;
}

std::vector<float> AppearanceCodes::code(size_t i) const {
  const auto first = values.begin() + std::ptrdiff_t(i * kAppearanceParams);
  return std::vector<float>(first, first + kAppearanceParams);
}

void AppearanceCodes::set_code(size_t i, const std::vector<float>& code) {
  if (code.size() != size_t(kAppearanceParams) || i >= size()) throw_internal("AppearanceCodes::set_code: bad index or size");
  std::copy(code.begin(), code.end(), values.begin() + std::ptrdiff_t(i * kAppearanceParams));
}

int AppearanceCodes::find(const std::string& name) const {
  namespace fs = std::filesystem;
  const std::string file = fs::path(name).filename().string(), stem = fs::path(name).stem().string();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == file) return int(i);
  for (size_t i = 0; i < names.size(); ++i)
    if (fs::path(names[i]).stem().string() == stem) return int(i);
  return -1;
}

void project_mean_identity(AppearanceCodes& codes) {
  const size_t n = codes.size();
  if (n == 0) return;
  const std::vector<float> id = identity_appearance_code();
  for (int k = 0; k < kAppearanceParams; ++k) {
    double mean = 0;
    for (size_t i = 0; i < n; ++i) mean += double(codes.values[i * kAppearanceParams + size_t(k)]);
    const float shift = float(mean / double(n)) - id[size_t(k)];
    for (size_t i = 0; i < n; ++i) codes.values[i * kAppearanceParams + size_t(k)] -= shift;
  }
}

void AppearanceAdam::reset(size_t codes) {
  m.assign(codes * kAppearanceParams, 0.0f);
  v.assign(codes * kAppearanceParams, 0.0f);
  steps.assign(codes, 0);
}

bool AppearanceAdam::step(AppearanceCodes& codes, size_t index, const float* grad, float lr) {
  constexpr float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  for (int k = 0; k < kAppearanceParams; ++k)
    if (!std::isfinite(grad[k])) return false;
  const long t = steps[index] + 1;
  const float c1 = 1.0f - std::pow(beta1, float(t)), c2 = 1.0f - std::pow(beta2, float(t));
  float next[kAppearanceParams], nm[kAppearanceParams], nv[kAppearanceParams];
  for (int k = 0; k < kAppearanceParams; ++k) {
    const size_t j = index * kAppearanceParams + size_t(k);
    nm[k] = beta1 * m[j] + (1 - beta1) * grad[k];
    nv[k] = beta2 * v[j] + (1 - beta2) * grad[k] * grad[k];
    next[k] = codes.values[j] - lr * (nm[k] / c1) / (std::sqrt(nv[k] / c2) + eps);
    if (!std::isfinite(next[k])) return false;
  }
  for (int k = 0; k < kAppearanceParams; ++k) {
    const size_t j = index * kAppearanceParams + size_t(k);
    m[j] = nm[k], v[j] = nv[k], codes.values[j] = next[k];
  }
  steps[index] = t;
  return true;
}

void write_appearance_codes(const std::string& path, const AppearanceCodes& codes) {
  nlohmann::ordered_json j;
  j["kind"] = "affine";
  j["layout"] = "out = A c + b; code = A row-major (9), b (3)";
  nlohmann::ordered_json list = nlohmann::json::array();
  for (size_t i = 0; i < codes.size(); ++i) list.push_back({{"image", codes.names[i]}, {"code", codes.code(i)}});
  j["codes"] = list;
  write_text_atomic(path, j.dump(2) + "\n");
}

AppearanceCodes read_appearance_codes(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(path, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object() || j.value("kind", std::string()) != "affine" || !j.contains("codes") || !j["codes"].is_array())
    throw_bad_input(path, "expected {\"kind\": \"affine\", \"codes\": [...]}");
  AppearanceCodes c;
  for (const auto& e : j["codes"]) {
    if (!e.is_object() || !e.contains("image") || !e["image"].is_string() || !e.contains("code") || !e["code"].is_array() ||
        e["code"].size() != size_t(kAppearanceParams))
      throw_bad_input(path, "each code needs an \"image\" name and 12 numbers");
    c.names.push_back(e["image"].get<std::string>());
    for (const auto& v : e["code"]) {
      if (!v.is_number()) throw_bad_input(path, "code of " + c.names.back() + " holds a non-number");
      const float f = v.get<float>();
      if (!std::isfinite(f)) throw_bad_input(path, "code of " + c.names.back() + " is not finite");
      c.values.push_back(f);
    }
  }
  return c;
}

GaussianModel recolour_model(const GaussianModel& model, const std::vector<float>& code) {
  if (code.size() != size_t(kAppearanceParams)) throw_internal("recolour_model: a code has 12 values");
  const float* A = code.data();
  const float* b = code.data() + 9;
  GaussianModel out = model;
  const size_t K = size_t(model.sh_coeffs());
  for (size_t i = 0; i < model.size(); ++i)
    for (size_t k = 0; k < K; ++k) {
      const float* in = model.sh.data() + (i * K + k) * 3;
      float* o = out.sh.data() + (i * K + k) * 3;
      for (int r = 0; r < 3; ++r) {
        float v = A[3 * r] * in[0] + A[3 * r + 1] * in[1] + A[3 * r + 2] * in[2];
        // colour = C0 dc + 0.5: A (C0 dc + 0.5) + b = C0 dc' + 0.5 with dc' = A dc + (A 0.5 + b - 0.5) / C0.
        if (k == 0) v += (0.5f * (A[3 * r] + A[3 * r + 1] + A[3 * r + 2]) + b[r] - 0.5f) / kSHC0;
        o[r] = v;
      }
    }
  return out;
}

glm::vec3 recolour_background(const glm::vec3& bg, const std::vector<float>& code) {
  if (code.size() != size_t(kAppearanceParams)) throw_internal("recolour_background: a code has 12 values");
  glm::vec3 out;
  for (int r = 0; r < 3; ++r)
    out[r] = code[size_t(3 * r)] * bg.x + code[size_t(3 * r + 1)] * bg.y + code[size_t(3 * r + 2)] * bg.z + code[size_t(9 + r)];
  return out;
}

}  // namespace sp
