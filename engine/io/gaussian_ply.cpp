#include "engine/io/gaussian_ply.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/io/compressed_ply.h"
#include "engine/io/ply.h"

namespace sp {

namespace {

// Number of properties named prefix0, prefix1, ...: all indices must form 0..n-1
// (a gap or a duplicate means the file is not what we think it is).
int indexed_count(const ply::Element& vertex, std::string_view prefix, const std::string& where) {
  std::vector<int> seen;
  for (const ply::Property& p : vertex.properties) {
    std::string_view name = p.name;
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    name.remove_prefix(prefix.size());
    int index = -1;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (ec != std::errc() || end != name.data() + name.size() || index < 0) continue;  // e.g. "f_rest_x": not ours
    seen.push_back(index);
  }
  std::sort(seen.begin(), seen.end());
  for (size_t i = 0; i < seen.size(); ++i)
    if (seen[i] != int(i))
      throw_bad_input(where, "properties " + std::string(prefix) + "* are not numbered 0.." +
                                 std::to_string(seen.size() - 1) + " (missing " + std::string(prefix) +
                                 std::to_string(i) + ")");
  return int(seen.size());
}

}  // namespace

GaussianModel read_gaussian_ply(const std::string& path) {
  ply::ReadOptions options;
  options.read_lists = false;  // a Gaussian PLY has none; skip any a tool may have added
  return gaussian_model_from_ply(ply::read_ply(path, options), path);
}

GaussianModel gaussian_model_from_ply(const ply::PlyData& data, const std::string& path) {
  if (is_compressed_ply(data.header())) return decode_compressed_ply(data, path);
  const ply::Element* vertex = data.element("vertex");
  if (!vertex) throw_bad_input(path, "no \"vertex\" element (not a Gaussian splatting PLY?)");

  const int rest = indexed_count(*vertex, "f_rest_", path);
  int degree = -1;
  for (int d = 0; d <= 3; ++d)
    if (rest == 3 * (sh_coeff_count(d) - 1)) degree = d;
  if (degree < 0)
    throw_bad_input(path, std::to_string(rest) + " f_rest properties; expected 0, 9, 24 or 45 (SH degree 0..3)");
  const int extras = indexed_count(*vertex, "f_extra_", path);

  static const char* required[] = {"x",       "y",       "z",       "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                                   "scale_0", "scale_1", "scale_2", "rot_0",  "rot_1",  "rot_2",  "rot_3"};
  for (const char* name : required)
    if (vertex->find(name) < 0)
      throw_bad_input(path, std::string("element vertex has no property \"") + name +
                                "\" (not a 3DGS Gaussian PLY? needs x y z f_dc_0..2 opacity scale_0..2 rot_0..3)");
  for (const ply::Property& p : vertex->properties)
    if (p.is_list && (p.name.starts_with("f_") || p.name == "opacity" || p.name.starts_with("scale_") ||
                      p.name.starts_with("rot_") || p.name == "x" || p.name == "y" || p.name == "z"))
      throw_bad_input(path, "property " + p.name + " is a list, expected a scalar");

  GaussianModel model;
  model.sh_degree = degree;
  model.extra_channels = extras;
  const size_t n = vertex->count;
  model.resize(n);
  const size_t K = size_t(model.sh_coeffs());
  const size_t E = size_t(extras);

  // Columns are copied a block of rows at a time so each block of file rows stays in cache.
  constexpr size_t kBlock = 4096;
  for (size_t r0 = 0; r0 < n; r0 += kBlock) {
    const size_t r1 = std::min(n, r0 + kBlock);
    auto copy = [&](const std::string& name, float* dst, size_t stride) {
      data.copy_floats("vertex", name, dst, stride, r0, r1);
    };
    static const char* axis[] = {"x", "y", "z"};
    for (int j = 0; j < 3; ++j) {
      copy(axis[j], model.means.data() + j, 3);
      copy("scale_" + std::to_string(j), model.log_scales.data() + j, 3);
      copy("f_dc_" + std::to_string(j), model.sh.data() + j, K * 3);  // k = 0 of channel j
    }
    for (int j = 0; j < 4; ++j) copy("rot_" + std::to_string(j), model.rotations.data() + j, 4);
    copy("opacity", model.opacities.data(), 1);
    for (size_t c = 0; c < 3; ++c)
      for (size_t k = 1; k < K; ++k)
        copy("f_rest_" + std::to_string(c * (K - 1) + k - 1), model.sh.data() + k * 3 + c, K * 3);
    for (size_t e = 0; e < E; ++e) copy("f_extra_" + std::to_string(e), model.extras.data() + e, E);
  }
  model.validate(path);
  return model;
}

void write_gaussian_ply(const std::string& path, const GaussianModel& model) {
  // Refuse to write what read_gaussian_ply would reject, rather than leave a file that
  // cannot be read back.
  try {
    model.validate("model");
  } catch (const Error& e) {
    throw_internal(std::string("write_gaussian_ply(") + path + "): " + e.what());
  }
  const size_t K = size_t(model.sh_coeffs());
  const size_t E = size_t(model.extra_channels);
  static const float zero = 0.0f;  // the normals: a stride-0 column of zeros

  ply::ElementOut vertex;
  vertex.name = "vertex";
  vertex.count = model.size();
  auto& cols = vertex.columns;
  cols.push_back(ply::Column::of("x", model.means.data() + 0, 3));
  cols.push_back(ply::Column::of("y", model.means.data() + 1, 3));
  cols.push_back(ply::Column::of("z", model.means.data() + 2, 3));
  for (const char* name : {"nx", "ny", "nz"}) cols.push_back(ply::Column::of(name, &zero, 0));
  for (size_t c = 0; c < 3; ++c) cols.push_back(ply::Column::of("f_dc_" + std::to_string(c), model.sh.data() + c, K * 3));
  for (size_t c = 0; c < 3; ++c)
    for (size_t k = 1; k < K; ++k)
      cols.push_back(ply::Column::of("f_rest_" + std::to_string(c * (K - 1) + k - 1), model.sh.data() + k * 3 + c, K * 3));
  cols.push_back(ply::Column::of("opacity", model.opacities.data(), 1));
  for (size_t j = 0; j < 3; ++j)
    cols.push_back(ply::Column::of("scale_" + std::to_string(j), model.log_scales.data() + j, 3));
  for (size_t j = 0; j < 4; ++j) cols.push_back(ply::Column::of("rot_" + std::to_string(j), model.rotations.data() + j, 4));
  for (size_t e = 0; e < E; ++e) cols.push_back(ply::Column::of("f_extra_" + std::to_string(e), model.extras.data() + e, E));

  ply::write_ply(path, {vertex}, {"Generated by sparsplat (INRIA 3DGS layout; f_extra_* = extra channels)"});
}

}  // namespace sp
