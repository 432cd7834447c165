#pragma once
// COLMAP sparse models (cameras, images, points3D), text and binary, read and written.
// The structs mirror COLMAP's files exactly (so text <-> binary round trips are lossless);
// colmap_intrinsics / colmap_pose turn them into the engine's Camera (COLMAP's convention
// is ours: the quaternion qw qx qy qz and t map world -> camera, +z forward, +y down).
//
// Every reader is bounds-checked and sanity-checks counts against the bytes left before
// allocating; any problem throws BadInput "file: what is wrong (expected vs found)".
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/camera.h"
#include "engine/io/undistort.h"

namespace sp {

// COLMAP's camera model ids (colmap/sensor/models.h).
enum class ColmapModelId : int {
  SimplePinhole = 0,
  Pinhole = 1,
  SimpleRadial = 2,
  Radial = 3,
  OpenCV = 4,
  OpenCVFisheye = 5,
  FullOpenCV = 6,
  FOV = 7,
  SimpleRadialFisheye = 8,
  RadialFisheye = 9,
  ThinPrismFisheye = 10,
  RadTanThinPrismFisheye = 11,
};
// "" / -1 for an unknown id or name.
const char* colmap_model_name(int model_id);
int colmap_model_param_count(int model_id);
int colmap_model_id(std::string_view name);

struct ColmapCamera {
  uint32_t id = 0;
  int model_id = 0;
  uint64_t width = 0, height = 0;
  std::vector<double> params;  // in COLMAP's order for the model
};

struct ColmapImage {
  uint32_t id = 0;
  std::array<double, 4> qvec{1, 0, 0, 0};  // w, x, y, z (world -> camera)
  std::array<double, 3> tvec{0, 0, 0};     // world -> camera
  uint32_t camera_id = 0;
  std::string name;
  std::vector<double> xys;           // 2 per 2D point (may be empty)
  std::vector<int64_t> point3d_ids;  // one per 2D point, -1 when unmatched
};

// points3D as structure of arrays; the track of point i is entries
// [track_offsets[i], track_offsets[i + 1]) of track_image_ids / track_point2d_idx.
struct ColmapPoints {
  std::vector<uint64_t> ids;
  std::vector<double> xyz;   // 3 per point
  std::vector<uint8_t> rgb;  // 3 per point
  std::vector<double> error;
  std::vector<uint64_t> track_offsets{0};
  std::vector<uint32_t> track_image_ids;
  std::vector<uint32_t> track_point2d_idx;
  size_t size() const { return ids.size(); }
};

struct ColmapModel {
  std::vector<ColmapCamera> cameras;
  std::vector<ColmapImage> images;
  ColmapPoints points;
  bool has_images = false;  // images.bin / images.txt was present
  bool has_points = false;  // points3D.bin / points3D.txt was present
  std::string cameras_file, images_file, points_file;  // the files read ("" if absent)
};

// Reads `dir`/{cameras,images,points3D}.{bin,txt}, preferring .bin. cameras is required;
// images and points3D are optional (LLFF's sparse/0 has no images.bin). Checks that each
// image's camera exists.
ColmapModel read_colmap_model(const std::string& dir);
bool has_colmap_file(const std::string& dir, const std::string& stem);  // stem.bin or stem.txt

// Per-file parsers over bytes; `where` names the source in errors.
std::vector<ColmapCamera> parse_colmap_cameras_bin(std::string_view bytes, const std::string& where);
std::vector<ColmapCamera> parse_colmap_cameras_txt(std::string_view text, const std::string& where);
std::vector<ColmapImage> parse_colmap_images_bin(std::string_view bytes, const std::string& where);
std::vector<ColmapImage> parse_colmap_images_txt(std::string_view text, const std::string& where);
ColmapPoints parse_colmap_points_bin(std::string_view bytes, const std::string& where);
ColmapPoints parse_colmap_points_txt(std::string_view text, const std::string& where);

// Encoders and writers (atomic; the folder must exist). Images/points files are written
// when has_images / has_points is set. Text numbers are shortest round-trip decimals, so a
// model written as text reads back bit-identical.
std::string encode_colmap_cameras_bin(const std::vector<ColmapCamera>& cameras);
std::string encode_colmap_cameras_txt(const std::vector<ColmapCamera>& cameras);
std::string encode_colmap_images_bin(const std::vector<ColmapImage>& images);
std::string encode_colmap_images_txt(const std::vector<ColmapImage>& images);
std::string encode_colmap_points_bin(const ColmapPoints& points);
std::string encode_colmap_points_txt(const ColmapPoints& points);
void write_colmap_binary(const std::string& dir, const ColmapModel& model);
void write_colmap_text(const std::string& dir, const ColmapModel& model);

// Pinhole intrinsics of a camera at its own size plus its distortion. BadInput naming
// `where` for models the engine cannot undistort (fisheye, FOV, thin prism).
struct ColmapIntrinsics {
  Camera camera;  // width, height, fx, fy, cx, cy; identity pose
  Distortion distortion;
};
ColmapIntrinsics colmap_intrinsics(const ColmapCamera& camera, const std::string& where);
// World -> camera rotation of a unit quaternion (w, x, y, z); the input is normalized.
glm::dmat3 quaternion_to_rotation(const std::array<double, 4>& qvec);
std::array<double, 4> rotation_to_quaternion(const glm::dmat3& R);
// Sets camera.R, camera.t from the image's pose. BadInput naming `where` for a zero quaternion.
void set_colmap_pose(Camera& camera, const ColmapImage& image, const std::string& where);

}  // namespace sp
