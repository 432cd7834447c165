#include "engine/io/colmap.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <unordered_set>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/io/byte_reader.h"
#include "engine/io/text_fields.h"

namespace sp {
namespace {

using detail::ByteReader;
using detail::parse_field;
using detail::split_fields;
using detail::TextLines;

struct ModelInfo {
  const char* name;
  int params;
};
constexpr ModelInfo kModels[] = {
    {"SIMPLE_PINHOLE", 3}, {"PINHOLE", 4},        {"SIMPLE_RADIAL", 4},         {"RADIAL", 5},
    {"OPENCV", 8},         {"OPENCV_FISHEYE", 8}, {"FULL_OPENCV", 12},          {"FOV", 5},
    {"SIMPLE_RADIAL_FISHEYE", 4}, {"RADIAL_FISHEYE", 5}, {"THIN_PRISM_FISHEYE", 12}, {"RAD_TAN_THIN_PRISM_FISHEYE", 16},
};
constexpr int kModelCount = int(sizeof(kModels) / sizeof(kModels[0]));

// Image sizes beyond this are certainly corrupt (and would overflow int in Camera).
constexpr uint64_t kMaxImageSide = 1u << 20;
constexpr size_t kMaxNameLength = 4096;

void check_camera(const ColmapCamera& c, const std::string& where) {
  const std::string cam = "camera " + std::to_string(c.id);
  if (c.width == 0 || c.height == 0 || c.width > kMaxImageSide || c.height > kMaxImageSide)
    throw_bad_input(where, cam + ": size " + std::to_string(c.width) + "x" + std::to_string(c.height) +
                               " is out of range (expected 1.." + std::to_string(kMaxImageSide) + ")");
  for (size_t i = 0; i < c.params.size(); ++i)
    if (!std::isfinite(c.params[i]))
      throw_bad_input(where, cam + ": parameter " + std::to_string(i) + " is not finite");
}

void check_unique(std::unordered_set<uint64_t>& seen, uint64_t id, const char* what, const std::string& where) {
  if (!seen.insert(id).second) throw_bad_input(where, std::string("duplicate ") + what + " id " + std::to_string(id));
}

void check_pose(const ColmapImage& im, const std::string& where) {
  for (double v : im.qvec)
    if (!std::isfinite(v)) throw_bad_input(where, "image '" + im.name + "': quaternion is not finite");
  for (double v : im.tvec)
    if (!std::isfinite(v)) throw_bad_input(where, "image '" + im.name + "': translation is not finite");
  const double n = std::sqrt(im.qvec[0] * im.qvec[0] + im.qvec[1] * im.qvec[1] + im.qvec[2] * im.qvec[2] +
                             im.qvec[3] * im.qvec[3]);
  if (!(n > 1e-12)) throw_bad_input(where, "image '" + im.name + "': quaternion is zero (expected a rotation)");
}

// Shortest decimal that reads back to the same double.
void append_number(std::string& out, double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
template <class T>
void append_int(std::string& out, T v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

std::string pick_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* ext : {".bin", ".txt"}) {
    const fs::path p = fs::path(dir) / (stem + ext);
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return {};
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

const char* colmap_model_name(int id) { return id >= 0 && id < kModelCount ? kModels[id].name : ""; }
int colmap_model_param_count(int id) { return id >= 0 && id < kModelCount ? kModels[id].params : -1; }
int colmap_model_id(std::string_view name) {
  for (int i = 0; i < kModelCount; ++i)
    if (name == kModels[i].name) return i;
  return -1;
}

// ---- cameras ----

std::vector<ColmapCamera> parse_colmap_cameras_bin(std::string_view bytes, const std::string& where) {
  ByteReader r(bytes, where);
  const auto n = r.read<uint64_t>("camera count");
  r.check_count(n, 4 + 4 + 8 + 8 + 3 * 8, "camera");
  std::vector<ColmapCamera> cams;
  cams.reserve(size_t(n));
  std::unordered_set<uint64_t> seen;
  for (uint64_t i = 0; i < n; ++i) {
    ColmapCamera c;
    c.id = r.read<uint32_t>("camera id");
    c.model_id = r.read<int32_t>("camera model id");
    const int np = colmap_model_param_count(c.model_id);
    if (np < 0)
      r.fail("camera " + std::to_string(c.id) + ": unknown camera model id " + std::to_string(c.model_id) +
             " (expected 0.." + std::to_string(kModelCount - 1) + ")");
    c.width = r.read<uint64_t>("camera width");
    c.height = r.read<uint64_t>("camera height");
    c.params.resize(size_t(np));
    for (int k = 0; k < np; ++k) c.params[size_t(k)] = r.read<double>("camera parameters");
    check_camera(c, where);
    check_unique(seen, c.id, "camera", where);
    cams.push_back(std::move(c));
  }
  if (!r.at_end()) r.fail(std::to_string(r.remaining()) + " unexpected bytes after " + std::to_string(n) + " cameras");
  return cams;
}

std::vector<ColmapCamera> parse_colmap_cameras_txt(std::string_view text, const std::string& where) {
  TextLines lines(text, where);
  std::vector<ColmapCamera> cams;
  std::unordered_set<uint64_t> seen;
  std::string_view line;
  while (lines.next(line)) {
    if (detail::is_blank_or_comment(line)) continue;
    const auto f = split_fields(line);
    if (f.size() < 4) lines.fail("expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS[], found " + std::to_string(f.size()) + " fields");
    ColmapCamera c;
    c.id = parse_field<uint32_t>(f[0], lines, "CAMERA_ID");
    c.model_id = colmap_model_id(f[1]);
    if (c.model_id < 0) {
      int id = -1;
      const auto [p, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), id);
      if (ec == std::errc() && p == f[1].data() + f[1].size() && colmap_model_param_count(id) >= 0) c.model_id = id;
    }
    if (c.model_id < 0)
      lines.fail("unknown camera model '" + std::string(f[1].substr(0, 40)) +
                 "' (expected SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, ...)");
    c.width = parse_field<uint64_t>(f[2], lines, "WIDTH");
    c.height = parse_field<uint64_t>(f[3], lines, "HEIGHT");
    const size_t np = size_t(colmap_model_param_count(c.model_id));
    if (f.size() != 4 + np)
      lines.fail(std::string(colmap_model_name(c.model_id)) + " takes " + std::to_string(np) + " parameters, found " +
                 std::to_string(f.size() - 4));
    for (size_t k = 0; k < np; ++k) c.params.push_back(parse_field<double>(f[4 + k], lines, "camera parameter"));
    try {
      check_camera(c, where);
      check_unique(seen, c.id, "camera", where);
    } catch (const Error& e) {
      lines.fail(std::string(e.what()).substr(where.size() + 2));
    }
    cams.push_back(std::move(c));
  }
  return cams;
}

// ---- images ----

std::vector<ColmapImage> parse_colmap_images_bin(std::string_view bytes, const std::string& where) {
  ByteReader r(bytes, where);
  const auto n = r.read<uint64_t>("image count");
  r.check_count(n, 4 + 4 * 8 + 3 * 8 + 4 + 1 + 8, "image");
  std::vector<ColmapImage> images;
  images.reserve(size_t(n));
  std::unordered_set<uint64_t> seen;
  for (uint64_t i = 0; i < n; ++i) {
    ColmapImage im;
    im.id = r.read<uint32_t>("image id");
    for (double& q : im.qvec) q = r.read<double>("image quaternion");
    for (double& t : im.tvec) t = r.read<double>("image translation");
    im.camera_id = r.read<uint32_t>("image camera id");
    im.name = r.read_cstring("image name", kMaxNameLength);
    if (im.name.empty()) r.fail("image " + std::to_string(im.id) + " has an empty name");
    const auto np = r.read<uint64_t>("2D point count");
    r.check_count(np, 24, "2D point of image '" + im.name + "'");
    im.xys.resize(size_t(np) * 2);
    im.point3d_ids.resize(size_t(np));
    for (uint64_t k = 0; k < np; ++k) {
      im.xys[2 * k] = r.read<double>("2D point x");
      im.xys[2 * k + 1] = r.read<double>("2D point y");
      im.point3d_ids[k] = r.read<int64_t>("2D point's 3D point id");
    }
    check_pose(im, where);
    check_unique(seen, im.id, "image", where);
    images.push_back(std::move(im));
  }
  if (!r.at_end()) r.fail(std::to_string(r.remaining()) + " unexpected bytes after " + std::to_string(n) + " images");
  return images;
}

std::vector<ColmapImage> parse_colmap_images_txt(std::string_view text, const std::string& where) {
  TextLines lines(text, where);
  std::vector<ColmapImage> images;
  std::unordered_set<uint64_t> seen;
  std::string_view line;
  while (lines.next(line)) {
    if (detail::is_blank_or_comment(line)) continue;
    const auto f = split_fields(line);
    if (f.size() < 10)
      lines.fail("expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME, found " + std::to_string(f.size()) + " fields");
    ColmapImage im;
    im.id = parse_field<uint32_t>(f[0], lines, "IMAGE_ID");
    for (size_t k = 0; k < 4; ++k) im.qvec[k] = parse_field<double>(f[1 + k], lines, "quaternion");
    for (size_t k = 0; k < 3; ++k) im.tvec[k] = parse_field<double>(f[5 + k], lines, "translation");
    im.camera_id = parse_field<uint32_t>(f[8], lines, "CAMERA_ID");
    // NAME is the rest of the line, so names with spaces survive.
    im.name = std::string(detail::trim(line.substr(size_t(f[9].data() - line.data()))));
    if (im.name.size() > kMaxNameLength) lines.fail("image name is longer than " + std::to_string(kMaxNameLength) + " characters");
    try {
      check_pose(im, where);
      check_unique(seen, im.id, "image", where);
    } catch (const Error& e) {
      lines.fail(std::string(e.what()).substr(where.size() + 2));
    }
    // The next line lists the 2D points (X Y POINT3D_ID)*, and may be empty, as COLMAP writes it.
    if (lines.next(line)) {
      const auto p = split_fields(line);
      if (!p.empty() && p[0].front() == '#') lines.fail("expected the 2D points line of image '" + im.name + "', found a comment");
      if (p.size() % 3 != 0)
        lines.fail("2D points line of image '" + im.name + "' has " + std::to_string(p.size()) +
                   " fields (expected triples X Y POINT3D_ID)");
      im.xys.reserve(p.size() / 3 * 2);
      im.point3d_ids.reserve(p.size() / 3);
      for (size_t k = 0; k < p.size(); k += 3) {
        im.xys.push_back(parse_field<double>(p[k], lines, "2D point X"));
        im.xys.push_back(parse_field<double>(p[k + 1], lines, "2D point Y"));
        im.point3d_ids.push_back(parse_field<int64_t>(p[k + 2], lines, "POINT3D_ID"));
      }
    }
    images.push_back(std::move(im));
  }
  return images;
}

// ---- points3D ----

ColmapPoints parse_colmap_points_bin(std::string_view bytes, const std::string& where) {
  ByteReader r(bytes, where);
  const auto n = r.read<uint64_t>("point count");
  r.check_count(n, 8 + 3 * 8 + 3 + 8 + 8, "point");
  ColmapPoints pts;
  pts.ids.reserve(size_t(n));
  pts.xyz.reserve(size_t(n) * 3);
  pts.rgb.reserve(size_t(n) * 3);
  pts.error.reserve(size_t(n));
  pts.track_offsets.reserve(size_t(n) + 1);
  std::unordered_set<uint64_t> seen;
  seen.reserve(size_t(n));
  for (uint64_t i = 0; i < n; ++i) {
    const auto id = r.read<uint64_t>("point id");
    check_unique(seen, id, "point", where);
    pts.ids.push_back(id);
    for (int k = 0; k < 3; ++k) {
      const double v = r.read<double>("point position");
      if (!std::isfinite(v)) r.fail("point " + std::to_string(id) + ": position is not finite");
      pts.xyz.push_back(v);
    }
    for (int k = 0; k < 3; ++k) pts.rgb.push_back(r.read<uint8_t>("point colour"));
    pts.error.push_back(r.read<double>("point error"));
    const auto len = r.read<uint64_t>("track length");
    r.check_count(len, 8, "track element of point " + std::to_string(id));
    for (uint64_t k = 0; k < len; ++k) {
      pts.track_image_ids.push_back(r.read<uint32_t>("track image id"));
      pts.track_point2d_idx.push_back(r.read<uint32_t>("track 2D point index"));
    }
    pts.track_offsets.push_back(pts.track_image_ids.size());
  }
  if (!r.at_end()) r.fail(std::to_string(r.remaining()) + " unexpected bytes after " + std::to_string(n) + " points");
  return pts;
}

ColmapPoints parse_colmap_points_txt(std::string_view text, const std::string& where) {
  TextLines lines(text, where);
  ColmapPoints pts;
  std::unordered_set<uint64_t> seen;
  std::string_view line;
  while (lines.next(line)) {
    if (detail::is_blank_or_comment(line)) continue;
    const auto f = split_fields(line);
    if (f.size() < 8 || (f.size() - 8) % 2 != 0)
      lines.fail("expected POINT3D_ID X Y Z R G B ERROR (IMAGE_ID POINT2D_IDX)*, found " + std::to_string(f.size()) +
                 " fields");
    const auto id = parse_field<uint64_t>(f[0], lines, "POINT3D_ID");
    if (!seen.insert(id).second) lines.fail("duplicate point id " + std::to_string(id));
    pts.ids.push_back(id);
    for (size_t k = 0; k < 3; ++k) pts.xyz.push_back(parse_field<double>(f[1 + k], lines, "point position"));
    for (size_t k = 0; k < 3; ++k) pts.rgb.push_back(parse_field<uint8_t>(f[4 + k], lines, "colour (0..255)"));
    pts.error.push_back(parse_field<double>(f[7], lines, "ERROR"));
    for (size_t k = 8; k < f.size(); k += 2) {
      pts.track_image_ids.push_back(parse_field<uint32_t>(f[k], lines, "track IMAGE_ID"));
      pts.track_point2d_idx.push_back(parse_field<uint32_t>(f[k + 1], lines, "track POINT2D_IDX"));
    }
    pts.track_offsets.push_back(pts.track_image_ids.size());
  }
  return pts;
}

// ---- the model ----

bool has_colmap_file(const std::string& dir, const std::string& stem) { return !pick_file(dir, stem).empty(); }

ColmapModel read_colmap_model(const std::string& dir) {
  ColmapModel m;
  m.cameras_file = pick_file(dir, "cameras");
  if (m.cameras_file.empty()) throw_bad_input(dir, "no cameras.bin or cameras.txt (expected a COLMAP sparse model)");
  const std::string cam_bytes = read_file(m.cameras_file);
  m.cameras = ends_with(m.cameras_file, ".bin") ? parse_colmap_cameras_bin(cam_bytes, m.cameras_file)
                                                : parse_colmap_cameras_txt(cam_bytes, m.cameras_file);
  if (m.cameras.empty()) throw_bad_input(m.cameras_file, "no cameras (expected at least one)");

  m.images_file = pick_file(dir, "images");
  if (!m.images_file.empty()) {
    const std::string bytes = read_file(m.images_file);
    m.images = ends_with(m.images_file, ".bin") ? parse_colmap_images_bin(bytes, m.images_file)
                                                : parse_colmap_images_txt(bytes, m.images_file);
    m.has_images = true;
    std::unordered_set<uint64_t> cams;
    for (const auto& c : m.cameras) cams.insert(c.id);
    for (const auto& im : m.images)
      if (!cams.count(im.camera_id))
        throw_bad_input(m.images_file, "image '" + im.name + "' refers to camera " + std::to_string(im.camera_id) + ", which " +
                                           m.cameras_file + " lacks");
  }
  m.points_file = pick_file(dir, "points3D");
  if (!m.points_file.empty()) {
    const std::string bytes = read_file(m.points_file);
    m.points = ends_with(m.points_file, ".bin") ? parse_colmap_points_bin(bytes, m.points_file)
                                                : parse_colmap_points_txt(bytes, m.points_file);
    m.has_points = true;
  }
  return m;
}

// ---- writers ----

std::string encode_colmap_cameras_bin(const std::vector<ColmapCamera>& cameras) {
  std::string out;
  put<uint64_t>(out, cameras.size());
  for (const auto& c : cameras) {
    if (int(c.params.size()) != colmap_model_param_count(c.model_id))
      throw_internal("encode_colmap_cameras_bin: camera " + std::to_string(c.id) + " has the wrong parameter count");
    put<uint32_t>(out, c.id);
    put<int32_t>(out, c.model_id);
    put<uint64_t>(out, c.width);
    put<uint64_t>(out, c.height);
    for (double p : c.params) put<double>(out, p);
  }
  return out;
}

std::string encode_colmap_cameras_txt(const std::vector<ColmapCamera>& cameras) {
  std::string out =
      "# Camera list with one line of data per camera:\n#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n# Number of cameras: " +
      std::to_string(cameras.size()) + "\n";
  for (const auto& c : cameras) {
    if (int(c.params.size()) != colmap_model_param_count(c.model_id))
      throw_internal("encode_colmap_cameras_txt: camera " + std::to_string(c.id) + " has the wrong parameter count");
    append_int(out, c.id);
    out += ' ';
    out += colmap_model_name(c.model_id);
    out += ' ';
    append_int(out, c.width);
    out += ' ';
    append_int(out, c.height);
    for (double p : c.params) {
      out += ' ';
      append_number(out, p);
    }
    out += '\n';
  }
  return out;
}

std::string encode_colmap_images_bin(const std::vector<ColmapImage>& images) {
  std::string out;
  put<uint64_t>(out, images.size());
  for (const auto& im : images) {
    put<uint32_t>(out, im.id);
    for (double q : im.qvec) put<double>(out, q);
    for (double t : im.tvec) put<double>(out, t);
    put<uint32_t>(out, im.camera_id);
    out += im.name;
    out += '\0';
    put<uint64_t>(out, im.point3d_ids.size());
    for (size_t k = 0; k < im.point3d_ids.size(); ++k) {
      put<double>(out, im.xys[2 * k]);
      put<double>(out, im.xys[2 * k + 1]);
      put<int64_t>(out, im.point3d_ids[k]);
    }
  }
  return out;
}

std::string encode_colmap_images_txt(const std::vector<ColmapImage>& images) {
  std::string out =
      "# Image list with two lines of data per image:\n#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
      "#   POINTS2D[] as (X, Y, POINT3D_ID)\n# Number of images: " +
      std::to_string(images.size()) + "\n";
  for (const auto& im : images) {
    append_int(out, im.id);
    for (double q : im.qvec) {
      out += ' ';
      append_number(out, q);
    }
    for (double t : im.tvec) {
      out += ' ';
      append_number(out, t);
    }
    out += ' ';
    append_int(out, im.camera_id);
    out += ' ';
    out += im.name;
    out += '\n';
    for (size_t k = 0; k < im.point3d_ids.size(); ++k) {
      if (k) out += ' ';
      append_number(out, im.xys[2 * k]);
      out += ' ';
      append_number(out, im.xys[2 * k + 1]);
      out += ' ';
      append_int(out, im.point3d_ids[k]);
    }
    out += '\n';
  }
  return out;
}

std::string encode_colmap_points_bin(const ColmapPoints& p) {
  std::string out;
  put<uint64_t>(out, p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    put<uint64_t>(out, p.ids[i]);
    for (int k = 0; k < 3; ++k) put<double>(out, p.xyz[3 * i + size_t(k)]);
    for (int k = 0; k < 3; ++k) put<uint8_t>(out, p.rgb[3 * i + size_t(k)]);
    put<double>(out, p.error[i]);
    put<uint64_t>(out, p.track_offsets[i + 1] - p.track_offsets[i]);
    for (uint64_t k = p.track_offsets[i]; k < p.track_offsets[i + 1]; ++k) {
      put<uint32_t>(out, p.track_image_ids[k]);
      put<uint32_t>(out, p.track_point2d_idx[k]);
    }
  }
  return out;
}

std::string encode_colmap_points_txt(const ColmapPoints& p) {
  std::string out =
      "# 3D point list with one line of data per point:\n#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as "
      "(IMAGE_ID, POINT2D_IDX)\n# Number of points: " +
      std::to_string(p.size()) + "\n";
  for (size_t i = 0; i < p.size(); ++i) {
    append_int(out, p.ids[i]);
    for (int k = 0; k < 3; ++k) {
      out += ' ';
      append_number(out, p.xyz[3 * i + size_t(k)]);
    }
    for (int k = 0; k < 3; ++k) {
      out += ' ';
      append_int(out, int(p.rgb[3 * i + size_t(k)]));
    }
    out += ' ';
    append_number(out, p.error[i]);
    for (uint64_t k = p.track_offsets[i]; k < p.track_offsets[i + 1]; ++k) {
      out += ' ';
      append_int(out, p.track_image_ids[k]);
      out += ' ';
      append_int(out, p.track_point2d_idx[k]);
    }
    out += '\n';
  }
  return out;
}

void write_colmap_binary(const std::string& dir, const ColmapModel& m) {
  write_text_atomic(dir + "/cameras.bin", encode_colmap_cameras_bin(m.cameras));
  if (m.has_images) write_text_atomic(dir + "/images.bin", encode_colmap_images_bin(m.images));
  if (m.has_points) write_text_atomic(dir + "/points3D.bin", encode_colmap_points_bin(m.points));
}

void write_colmap_text(const std::string& dir, const ColmapModel& m) {
  write_text_atomic(dir + "/cameras.txt", encode_colmap_cameras_txt(m.cameras));
  if (m.has_images) write_text_atomic(dir + "/images.txt", encode_colmap_images_txt(m.images));
  if (m.has_points) write_text_atomic(dir + "/points3D.txt", encode_colmap_points_txt(m.points));
}

// ---- conversion to the engine's camera ----

ColmapIntrinsics colmap_intrinsics(const ColmapCamera& c, const std::string& where) {
  const int np = colmap_model_param_count(c.model_id);
  if (np < 0 || int(c.params.size()) != np)
    throw_bad_input(where, "camera " + std::to_string(c.id) + ": bad model id or parameter count");
  ColmapIntrinsics out;
  Camera& cam = out.camera;
  cam.width = int(c.width);
  cam.height = int(c.height);
  Distortion& d = out.distortion;
  const auto& p = c.params;
  switch (ColmapModelId(c.model_id)) {
    case ColmapModelId::SimplePinhole:
      cam.fx = cam.fy = float(p[0]);
      cam.cx = float(p[1]);
      cam.cy = float(p[2]);
      break;
    case ColmapModelId::Pinhole:
      cam.fx = float(p[0]);
      cam.fy = float(p[1]);
      cam.cx = float(p[2]);
      cam.cy = float(p[3]);
      break;
    case ColmapModelId::SimpleRadial:
      cam.fx = cam.fy = float(p[0]);
      cam.cx = float(p[1]);
      cam.cy = float(p[2]);
      d.model = Distortion::Model::SimpleRadial;
      d.k1 = p[3];
      break;
    case ColmapModelId::Radial:
      cam.fx = cam.fy = float(p[0]);
      cam.cx = float(p[1]);
      cam.cy = float(p[2]);
      d.model = Distortion::Model::Radial;
      d.k1 = p[3];
      d.k2 = p[4];
      break;
    case ColmapModelId::OpenCV:
    case ColmapModelId::FullOpenCV:
      cam.fx = float(p[0]);
      cam.fy = float(p[1]);
      cam.cx = float(p[2]);
      cam.cy = float(p[3]);
      d.model = c.model_id == int(ColmapModelId::OpenCV) ? Distortion::Model::OpenCV : Distortion::Model::FullOpenCV;
      d.k1 = p[4];
      d.k2 = p[5];
      d.p1 = p[6];
      d.p2 = p[7];
      if (d.model == Distortion::Model::FullOpenCV) {
        d.k3 = p[8];
        d.k4 = p[9];
        d.k5 = p[10];
        d.k6 = p[11];
      }
      break;
    default:
      throw_bad_input(where, "camera " + std::to_string(c.id) + " uses the " + colmap_model_name(c.model_id) +
                                 " model, which is not supported (expected SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, "
                                 "RADIAL, OPENCV or FULL_OPENCV; undistort with 'colmap image_undistorter' first)");
  }
  if (!(cam.fx > 0) || !(cam.fy > 0) || !std::isfinite(cam.fx) || !std::isfinite(cam.fy))
    throw_bad_input(where, "camera " + std::to_string(c.id) + ": focal length " + std::to_string(cam.fx) + ", " +
                               std::to_string(cam.fy) + " (expected positive)");
  if (!std::isfinite(cam.cx) || !std::isfinite(cam.cy))
    throw_bad_input(where, "camera " + std::to_string(c.id) + ": principal point is not finite");
  return out;
}

glm::dmat3 quaternion_to_rotation(const std::array<double, 4>& q) {
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  const double m[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                          {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                          {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
  glm::dmat3 R;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) R[c][r] = m[r][c];  // GLM is column-major
  return R;
}

std::array<double, 4> rotation_to_quaternion(const glm::dmat3& R) {
  // Shepperd's method: pick the largest of w, x, y, z to divide by.
  const auto m = [&](int r, int c) { return R[c][r]; };
  const double tr = m(0, 0) + m(1, 1) + m(2, 2);
  std::array<double, 4> q;
  if (tr > 0) {
    const double s = std::sqrt(tr + 1.0) * 2;
    q = {0.25 * s, (m(2, 1) - m(1, 2)) / s, (m(0, 2) - m(2, 0)) / s, (m(1, 0) - m(0, 1)) / s};
  } else if (m(0, 0) > m(1, 1) && m(0, 0) > m(2, 2)) {
    const double s = std::sqrt(1.0 + m(0, 0) - m(1, 1) - m(2, 2)) * 2;
    q = {(m(2, 1) - m(1, 2)) / s, 0.25 * s, (m(0, 1) + m(1, 0)) / s, (m(0, 2) + m(2, 0)) / s};
  } else if (m(1, 1) > m(2, 2)) {
    const double s = std::sqrt(1.0 + m(1, 1) - m(0, 0) - m(2, 2)) * 2;
    q = {(m(0, 2) - m(2, 0)) / s, (m(0, 1) + m(1, 0)) / s, 0.25 * s, (m(1, 2) + m(2, 1)) / s};
  } else {
    const double s = std::sqrt(1.0 + m(2, 2) - m(0, 0) - m(1, 1)) * 2;
    q = {(m(1, 0) - m(0, 1)) / s, (m(0, 2) + m(2, 0)) / s, (m(1, 2) + m(2, 1)) / s, 0.25 * s};
  }
  if (q[0] < 0)
    for (double& v : q) v = -v;
  return q;
}

void set_colmap_pose(Camera& camera, const ColmapImage& image, const std::string& where) {
  check_pose(image, where);
  camera.R = glm::mat3(quaternion_to_rotation(image.qvec));
  camera.t = glm::vec3(float(image.tvec[0]), float(image.tvec[1]), float(image.tvec[2]));
}

}  // namespace sp
