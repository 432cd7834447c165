#pragma once
// Open-vocabulary segmentation evaluation (docs/language.md):
//  - LERF-OVS: labelme-style JSON per frame ({"info": {"width", "height"...}, "objects":
//    [{"category", "segmentation": [[x, y]...], "bbox": [x0, y0, x1, y1]...}]}); objects of
//    one category are merged into one mask; mIoU over (frame, category) and localization
//    accuracy (the point falls in one of the category's boxes).
//  - 3D-OVS: per view a folder of binary PNG masks named "<category>.png"; mIoU.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sp {

double mask_iou(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b);  // 1 when both empty
std::array<int, 4> mask_bbox(const std::vector<uint8_t>& mask, int width, int height);  // x0, y0, x1, y1 (inclusive); empty: -1s
bool point_in_box(int x, int y, const std::array<int, 4>& box);
bool point_in_box(double x, double y, const std::array<double, 4>& box);

// Pixel centres inside the polygon (even-odd rule), polygon in pixels at the frame's size,
// scaled to width x height.
void fill_polygon(const std::vector<std::array<double, 2>>& polygon, double scale_x, double scale_y, int width,
                  int height, std::vector<uint8_t>& mask);

struct LerfCategory {
  std::vector<uint8_t> mask;                // at the requested size
  std::vector<std::array<double, 4>> boxes; // scaled to the requested size
};
struct LerfFrame {
  int width = 0, height = 0;                // of the labelled image
  std::map<std::string, LerfCategory> categories;
};
// Reads one label file, masks rasterized at width x height (0: the file's size).
LerfFrame read_lerf_frame(const std::string& path, int width = 0, int height = 0);

// 3D-OVS: the masks of one view folder ("<category>.png", > 0.5 = inside), at width x height.
std::map<std::string, std::vector<uint8_t>> read_ovs_masks(const std::string& dir, int width, int height);

}  // namespace sp
