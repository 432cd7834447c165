// Blender (NeRF-synthetic) and nerfstudio datasets: transforms_train.json (+ transforms_test.json)
// with the protocol's train/test frames, or a single transforms.json (views sorted by name,
// LLFF hold-out). Frames may carry their own intrinsics and distortion (nerfstudio).
#include <algorithm>

#include "engine/core/error.h"
#include "engine/io/blender.h"
#include "engine/scene/format_loader.h"

namespace sp::format_loader {
namespace fs = std::filesystem;

namespace {

bool same_lens(const TransformsFrame& o, const TransformsFrame& f) {
  const Camera &a = o.camera, &b = f.camera;
  const Distortion &p = o.distortion, &q = f.distortion;
  return a.width == b.width && a.height == b.height && a.fx == b.fx && a.fy == b.fy && a.cx == b.cx && a.cy == b.cy &&
         p.model == q.model && p.k1 == q.k1 && p.k2 == q.k2 && p.p1 == q.p1 && p.p2 == q.p2 && p.k3 == q.k3;
}

}  // namespace

Loaded load_blender(const std::string& root) {
  Loaded L;
  L.format = "blender";
  const fs::path train = fs::path(root) / "transforms_train.json", test = fs::path(root) / "transforms_test.json";
  std::vector<TransformsFrame> frames;
  if (is_file(train)) {
    frames = read_transforms(train.string());
    const size_t n_train = frames.size();
    size_t n_test = 0;
    if (is_file(test)) {
      auto t = read_transforms(test.string());
      n_test = t.size();
      for (auto& f : t) frames.push_back(std::move(f));
    }
    if (n_train == 0) throw_bad_input(train.string(), "no frames (expected at least one)");
    L.split_rule.kind = SplitRule::Kind::blender;
    L.split_rule.train_frames = int(n_train);
    L.split_rule.test_frames = int(n_test);
    L.note = "transforms_train.json (" + std::to_string(n_train) + ") + transforms_test.json (" + std::to_string(n_test) + ")";
  } else {
    const fs::path single = fs::path(root) / "transforms.json";
    frames = read_transforms(single.string());
    if (frames.empty()) throw_bad_input(single.string(), "no frames (expected at least one)");
    std::stable_sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    L.note = "transforms.json";  // split rule: the LLFF hold-out (SplitRule's default)
  }
  // Frames with identical intrinsics and distortion share a lens (one undistortion map).
  std::vector<const TransformsFrame*> lenses;
  for (const auto& f : frames) {
    View v;
    v.camera = f.camera;
    v.distortion = f.distortion;
    v.path = f.path;
    if (!f.distortion.is_none()) {
      const auto it = std::find_if(lenses.begin(), lenses.end(), [&](const TransformsFrame* o) { return same_lens(*o, f); });
      v.lens = int(it - lenses.begin());
      if (it == lenses.end()) lenses.push_back(&f);
    }
    L.views.push_back(std::move(v));
  }
  return L;
}

}  // namespace sp::format_loader
