// Interoperability end to end: another tool's model (OpenSplat 1.1.5's point_cloud.ply +
// cameras.json, ../shared/data/opensplat_statue) rendered by our CPU rasterizer must
// reproduce OpenSplat's own render of the held-out view. An independent reference
// renderer reached 52.8 dB on this pair (see the folder's SOURCE.txt); a half-pixel or
// SH-layout mistake costs more than 10 dB, so > 45 dB checks the whole chain: PLY layout,
// f_rest order, cameras.json axes, principal point, projection and blending.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/io/cameras_json.h"
#include "engine/io/image_io.h"
#include "engine/render/rasterizer.h"
#include "engine/io/gaussian_ply.h"
#include "support/test_support.h"

namespace sp {
namespace {

TEST(OpenSplatInterop, RendersTheHeldOutViewLikeOpenSplat) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  const GaussianModel model = read_gaussian_ply(dir + "/point_cloud.ply");
  const std::vector<Camera> cameras = read_cameras_json(dir + "/cameras.json");
  ASSERT_FALSE(cameras.empty());
  const Camera& cam = cameras[0];
  ASSERT_EQ(cam.name, "1359873828_f015f87b16_o.jpg");
  ASSERT_EQ(cam.width, 199);
  ASSERT_EQ(cam.height, 299);
  ASSERT_EQ(cam.cx, 99.5f);  // no principal point in cameras.json: the centre, as OpenSplat renders
  ASSERT_EQ(cam.cy, 149.5f);

  RenderOptions options;
  options.sh_degree = 3;  // stored degree; f_rest is all zero at OpenSplat's step 500
  options.background = glm::vec3(0.613f, 0.0101f, 0.3984f);
  const auto rasterizer = make_cpu_rasterizer();
  const RenderOutput out = rasterizer->forward(cam, params_of(model), options);
  ASSERT_EQ(out.color.width, 199);
  ASSERT_EQ(out.color.height, 299);

  // OpenSplat saved its render as 8-bit by truncation (not rounding): do the same to ours.
  Image ours = out.color;
  for (float& v : ours.pixels) v = std::floor(std::clamp(v, 0.0f, 1.0f) * 255.0f) / 255.0f;
  const Image theirs = load_image(dir + "/render_1359873828_f015f87b16_o.png", 3);
  // PSNR by hand (test_render does not link engine/eval): data range 1, all pixels and channels.
  ASSERT_EQ(ours.pixels.size(), theirs.pixels.size());
  double se = 0;
  size_t differing = 0;
  for (size_t i = 0; i < ours.pixels.size(); ++i) {
    const double d = double(ours.pixels[i]) - double(theirs.pixels[i]);
    se += d * d;
    differing += std::abs(d) > 1.5 / 255;
  }
  const double p = 10.0 * std::log10(double(ours.pixels.size()) / se);
  std::printf("[ interop ] OpenSplat statue view 0, 199x299: PSNR %.2f dB against OpenSplat's render "
              "(%zu of %zu values differ by more than 1 level)\n", p, differing, ours.pixels.size());
  EXPECT_GT(p, 45.0);
}

}  // namespace
}  // namespace sp
