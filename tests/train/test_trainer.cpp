// The training loop on a synthetic scene with exact ground truth: held-out PSNR rises far
// above the untrained model, runs are reproducible, and resuming from a checkpoint continues
// bit-exactly.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "engine/core/error.h"
#include "engine/eval/metrics.h"
#include "engine/scene/initialization.h"
#include "engine/train/trainer.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace sp {
namespace {

struct Scene {
  std::string dir;
  Dataset data;
};

const Scene& scene() {
  static const Scene s = [] {
    Scene sc;
    sc.dir = test::temp_dir("trainer-scene");
    test::write_synthetic_colmap_scene(sc.dir);
    DatasetOptions o;
    o.train_views = 6;
    sc.data = Dataset::load(sc.dir, o);
    return sc;
  }();
  return s;
}

double mean_test_psnr(const Dataset& data, const GaussianModel& model, int sh_degree) {
  auto r = make_cpu_rasterizer();
  RenderOptions ro;
  ro.sh_degree = sh_degree;
  double sum = 0;
  for (int id : data.test_ids) sum += psnr(r->forward(data.cameras[size_t(id)], params_of(model), ro).color, data.image(id));
  return sum / double(data.test_ids.size());
}

GaussianModel initial_model(const Dataset& data) {
  InitOptions init;
  init.sh_degree = 1;
  init.random_points = 2000;
  return gaussians_from_points(random_points_in_view_volume(data, init), init);
}

TEST(Trainer, HeldOutPsnrRisesFarAboveUntrainedModel) {
  const Dataset& data = scene().data;
  ASSERT_EQ(data.train_ids.size(), 6u);
  ASSERT_FALSE(data.test_ids.empty());
  auto rasterizer = make_cpu_rasterizer();
  TrainOptions o;
  o.iterations = 600;
  o.sh_degree = 1;
  o.sh_increase_interval = 300;
  GaussianModel init = initial_model(data);
  const double before = mean_test_psnr(data, init, 0);
  Trainer trainer(data, std::move(init), o, *rasterizer);
  trainer.run();
  const double after = mean_test_psnr(data, trainer.model(), trainer.active_sh_degree());
  std::printf("synthetic scene, 6 train views, 600 iterations: held-out PSNR %.2f dB -> %.2f dB, %zu Gaussians\n",
              before, after, trainer.model().size());
  EXPECT_GT(after, before + 8.0);
  EXPECT_GT(after, 24.0);
}

TEST(Trainer, SameSeedSameResultAndResumeIsBitExact) {
  const Dataset& data = scene().data;
  auto rasterizer = make_cpu_rasterizer();
  TrainOptions o;
  o.iterations = 120;
  o.sh_degree = 1;
  o.sh_increase_interval = 50;
  o.seed = 3;

  Trainer straight(data, initial_model(data), o, *rasterizer);
  straight.run();

  // 60 iterations, checkpoint, then a fresh trainer resumes and runs the other 60.
  const std::string ckpt = test::temp_dir("ckpt") + "/ckpt.bin";
  Trainer first(data, initial_model(data), o, *rasterizer);
  while (first.iteration() < 60) first.step();
  first.save_checkpoint(ckpt);
  Trainer resumed(data, initial_model(data), o, *rasterizer);
  resumed.load_checkpoint(ckpt);
  EXPECT_EQ(resumed.iteration(), 60);
  resumed.run();

  const GaussianModel& a = straight.model();
  const GaussianModel& b = resumed.model();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.means, b.means);
  EXPECT_EQ(a.sh, b.sh);
  EXPECT_EQ(a.opacities, b.opacities);
  EXPECT_EQ(a.log_scales, b.log_scales);
  EXPECT_EQ(a.rotations, b.rotations);
}

TEST(Trainer, CorruptCheckpointIsBadInput) {
  const Dataset& data = scene().data;
  auto rasterizer = make_cpu_rasterizer();
  TrainOptions o;
  o.iterations = 10;
  o.sh_degree = 1;
  Trainer t(data, initial_model(data), o, *rasterizer);
  t.step();
  const std::string dir = test::temp_dir("ckpt-bad");
  t.save_checkpoint(dir + "/good.bin");
  std::string bytes;
  {
    std::ifstream in(dir + "/good.bin", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t cut : {size_t(0), size_t(5), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(dir + "/bad.bin", std::ios::binary).write(bytes.data(), std::streamsize(cut));
    try {
      t.load_checkpoint(dir + "/bad.bin");
      ADD_FAILURE() << "truncated checkpoint (" << cut << " bytes) was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    }
  }
}

}  // namespace
}  // namespace sp
