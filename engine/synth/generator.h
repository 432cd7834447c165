#pragma once
// Renders a scene's whole rig and writes it in the benchmark's layouts (scenes/README.md
// has the full description):
//
//   <out>/split.json                  SpaRe split {scene: {input_views, test_views, dataset}}
//   <out>/<scene>_synth.json          what was generated (settings and conventions)
//   <out>/<scene>/                    SpaRe/DTU layout
//       cam_{i+1:03d}_{L}_0000.png      8-bit RGB image of view i under lighting L
//       pos_{i+1:03d}.txt               P = K [R | t], 3 lines of 4 numbers
//       mask/{i:03d}.png                8-bit object mask: 255 where the pixel-centre ray hits an object
//       depth/{i:03d}.npy               float32 H x W: view-space z (scene units) of the surface
//                                       through each pixel centre (0: nothing hit)
//       transient/{i:03d}.png           with SynthOptions::wild occluders: 255 where one was pasted
//   <out>/<scene>_wild.json           with SynthOptions::wild: each input view's colour transform
//                                     (appearance.h code layout) and occluder share
//   <out>/<scene>_colmap/             COLMAP text model of the same views
//       images/cam_{i+1:03d}_{L}_0000.png, mask/, depth/ (as above)
//       sparse/0/cameras.txt            one PINHOLE camera
//       sparse/0/images.txt             poses, with the 2D observations of every point
//       sparse/0/points3D.txt           points sampled on the object and platform-top surfaces,
//                                       kept when seen by >= 2 views, coloured by the mean
//                                       of their pixels, tracks = the views that see them
//
// Same scene + options => byte-identical files. Re-running into the same folder replaces
// the files and removes views numbered beyond the new count; images of other lighting
// indices are kept (run once per L to collect several set-ups, as DTU has).
#include <functional>
#include <string>
#include <vector>

#include "engine/synth/camera_rig.h"
#include "engine/synth/scene_file.h"
#include "engine/synth/wild_photos.h"

namespace sp::synth {

struct SynthOptions {
  int width = 0, height = 0;  // 0: the scene's (height 0 with a width: keep the scene's aspect)
  int views = 0;              // 0: the scene's rig.views
  int lighting = -1;          // -1: the scene's default_lighting
  int64_t seed = -1;          // -1: the scene's seed
  int supersampling = 0;      // 0: the scene's
  bool spare = true;          // write <out>/<scene>/ (+ split.json)
  bool colmap = true;         // write <out>/<scene>_colmap/
  // Photos in the wild (wild_photos.h): the input views (not the test views) get colour
  // transforms and pasted occluders; the seed is the scene's unless wild.seed is set.
  WildPhotoOptions wild;
};

// The scene with the options applied and checked (BadInput for out-of-range values).
SceneDesc apply_options(SceneDesc desc, const SynthOptions& options);

struct SynthResult {
  SceneDesc scene;                 // what was rendered
  int lighting = 0;
  std::vector<RigCamera> cameras;  // view i
  ViewSplit split;
  std::string spare_dir, colmap_dir, split_file;  // "" for layouts not written
  size_t points = 0;               // COLMAP points written
};

// `progress(done, total)` is called after each view.
SynthResult generate_dataset(const SceneDesc& scene, const SynthOptions& options, const std::string& out_dir,
                             const std::function<void(int, int)>& progress = {});

}  // namespace sp::synth
