// The GPU-resident plain-recipe training loop (see cuda_trainer.h). Mirrors
// engine/train/trainer.cpp's step() statement by statement for the options it supports.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "cuda/cuda_device_rasterizer.h"
#include "cuda/cuda_rasterizer.h"
#include "cuda/cuda_train_kernels.h"
#include "cuda/cuda_trainer.h"
#include "cuda/device_buffer.cuh"
#include "cuda/flat_params.h"
#include "engine/core/error.h"

namespace sp {

using cuda_detail::DeviceBuffer;

std::string cuda_trainer_unsupported(const TrainOptions& o) {
  const SparseViewOptions& sv = o.sparse;
  if (sv.co_training) return "co-training (CoR-GS)";
  if (sv.unpooling) return "unpooling (FSGS)";
  if (sv.depth_smoothness > 0) return "depth smoothness";
  if (sv.depth_curvature > 0) return "depth curvature";
  if (sv.opacity_entropy > 0) return "the opacity entropy regularizer";
  if (sv.scale_penalty > 0) return "the scale penalty";
  if (sv.anisotropy_penalty > 0) return "the anisotropy penalty";
  if (sv.max_angular_scale > 0) return "the angular scale cap";
  if (sv.backdrop_alpha > 0) return "the backdrop term";
  if (sv.opacity_decay > 0) return "opacity decay";
  if (sv.min_views_seen > 0) return "pruning outside the train views";
  if (sv.depth_prior > 0) return "the stereo depth prior";
  if (sv.binocular > 0) return "the binocular consistency term";
  if (sv.start_box_margin > 0) return "pruning outside the start's box";
  if (o.checkpoint_interval > 0) return "checkpoints";
  if (o.appearance.enabled) return "appearance codes (docs/in_the_wild.md)";
  if (o.robust.enabled) return "the trimmed loss (docs/in_the_wild.md)";
  if (o.early_stop.enabled) return "early stop";
  // Pseudo views only matter through co-training / depth smoothness (both refused above).
  return "";
}

struct CudaTrainer::Impl {
  const Dataset& dataset;
  TrainOptions options;
  DensifySchedule schedule;
  Rng rng;
  Adam optimizer;
  std::vector<int> view_stack;
  long iteration = 0;
  int active_sh_degree = 0;
  float extent = 1.0f;
  float loss_ema = 0.0f;

  // The model's shape and its device state.
  int sh_degree = 3, extra_channels = 0;
  size_t count = 0;
  long adam_step = 0;
  DeviceBuffer<float> params, grads, adam_m, adam_v;  // flat, FlatLayout::of(count, ...)
  DeviceBuffer<float> means2d_grad;                    // N x 2
  DeviceBuffer<float> grad_accum, visible_count, max_radius;
  DeviceBuffer<float> color_grad;
  CudaDeviceRasterizer raster;
  CudaPhotometricLoss loss;
  std::map<int, std::unique_ptr<DeviceBuffer<float>>> images;  // train views uploaded once

  mutable GaussianModel host_model;
  mutable bool host_model_fresh = false;
  std::unique_ptr<Rasterizer> host_rasterizer;  // made on first use (rasterizer())

  Impl(const Dataset& d, const TrainOptions& o) : dataset(d), options(o), schedule(resolve_schedule(o)), rng(o.seed) {}

  FlatLayout layout() const { return FlatLayout::of(count, sh_coeff_count(sh_degree), extra_channels); }

  GaussianModel empty_model() const {
    GaussianModel m;
    m.sh_degree = sh_degree;
    m.extra_channels = extra_channels;
    return m;
  }

  // Host model + moments + statistics -> device (after construction and densification).
  void upload(const GaussianModel& model, const AdamState& adam, const DensityController& density) {
    sh_degree = model.sh_degree;
    extra_channels = model.extra_channels;
    count = model.size();
    adam_step = adam.step;
    const std::vector<float> p = flatten(model), m = flatten(adam.m), v = flatten(adam.v);
    params.upload(p.data(), p.size());
    adam_m.upload(m.data(), m.size());
    adam_v.upload(v.data(), v.size());
    grads.resize(p.size());
    means2d_grad.resize(count * 2);
    grad_accum.upload(density.grad_accum.data(), count);
    visible_count.upload(density.visible_count.data(), count);
    max_radius.upload(density.max_radius.data(), count);
    host_model_fresh = false;
  }

  void download(GaussianModel& model, AdamState& adam, DensityController& density) const {
    const size_t total = layout().total();
    std::vector<float> buf(total);
    model = empty_model();
    params.download(buf.data(), total);
    unflatten(buf, count, model);
    adam.m = empty_model();
    adam.v = empty_model();
    adam_m.download(buf.data(), total);
    unflatten(buf, count, adam.m);
    adam_v.download(buf.data(), total);
    unflatten(buf, count, adam.v);
    adam.step = adam_step;
    density.grad_accum.resize(count);
    density.visible_count.resize(count);
    density.max_radius.resize(count);
    grad_accum.download(density.grad_accum.data(), count);
    visible_count.download(density.visible_count.data(), count);
    max_radius.download(density.max_radius.data(), count);
  }

  GaussianParams device_params() {
    const FlatLayout l = layout();
    float* p = params.get();
    GaussianParams g;
    g.count = count;
    g.sh_coeffs = l.sh_coeffs;
    g.extra_channels = extra_channels;
    g.means = p + l.offset[kSegMeans];
    g.log_scales = p + l.offset[kSegLogScales];
    g.rotations = p + l.offset[kSegRotations];
    g.opacities = p + l.offset[kSegOpacities];
    g.sh = p + l.offset[kSegSh];
    g.extras = extra_channels > 0 ? p + l.offset[kSegExtras] : nullptr;
    return g;
  }

  DeviceGradientPointers gradient_pointers() {
    const FlatLayout l = layout();
    float* g = grads.get();
    DeviceGradientPointers d;
    d.means = g + l.offset[kSegMeans];
    d.log_scales = g + l.offset[kSegLogScales];
    d.rotations = g + l.offset[kSegRotations];
    d.opacities = g + l.offset[kSegOpacities];
    d.sh = g + l.offset[kSegSh];
    d.extras = extra_channels > 0 ? g + l.offset[kSegExtras] : nullptr;
    d.means2d = means2d_grad.get();
    return d;
  }

  const float* device_image(int view) {
    auto it = images.find(view);
    if (it != images.end()) return it->second->get();
    const std::shared_ptr<const Image> im = dataset.image_ptr(view);
    if (im->channels != 3) throw_internal("CUDA trainer: train image is not RGB");
    auto buf = std::make_unique<DeviceBuffer<float>>();
    buf->upload(im->pixels.data(), im->pixels.size());
    const float* ptr = buf->get();
    images.emplace(view, std::move(buf));
    return ptr;
  }

  // As Trainer::next_view: pops from a shuffled copy of the train set, refilled when empty.
  int next_view() {
    if (view_stack.empty()) {
      view_stack = dataset.train_ids;
      std::shuffle(view_stack.begin(), view_stack.end(), rng.engine());
    }
    const int v = view_stack.back();
    view_stack.pop_back();
    return v;
  }
};

CudaTrainer::CudaTrainer(const Dataset& dataset, GaussianModel initial, const TrainOptions& options)
    : impl_(std::make_unique<Impl>(dataset, options)) {
  Impl& s = *impl_;
  if (dataset.train_ids.empty()) throw_bad_input(dataset.root, "no train views to optimize on");
  if (options.iterations < 0) throw_bad_input("--iterations", "must be >= 0");
  const std::string missing = cuda_trainer_unsupported(options);
  if (!missing.empty()) throw_bad_input("--device cuda", "the CUDA trainer does not implement " + missing);
  std::string why;
  if (!cuda_device_available(&why)) throw_internal("CUDA trainer: no usable CUDA device (" + why + ")");
  initial.validate("initial model");
  const SparseViewOptions& sv = options.sparse;
  if (sv.budget_growth > 0 && s.options.densify.max_gaussians > 0)
    s.options.densify.max_gaussians =
        std::max(s.options.densify.max_gaussians, size_t(double(sv.budget_growth) * double(initial.size())));
  AdamState adam;
  adam.reset_like(initial);
  DensityController density;
  density.resize(initial.size());
  s.extent = dataset.scene_extent();
  s.active_sh_degree = 0;
  s.upload(initial, adam, density);
}

CudaTrainer::~CudaTrainer() = default;

long CudaTrainer::iteration() const { return impl_->iteration; }
int CudaTrainer::active_sh_degree() const { return impl_->active_sh_degree; }
const TrainOptions& CudaTrainer::options() const { return impl_->options; }
float CudaTrainer::extent() const { return impl_->extent; }

const GaussianModel& CudaTrainer::model() const {
  const Impl& s = *impl_;
  if (!s.host_model_fresh) {
    std::vector<float> buf(s.layout().total());
    s.host_model = s.empty_model();
    s.params.download(buf.data(), buf.size());
    unflatten(buf, s.count, s.host_model);
    s.host_model_fresh = true;
  }
  return s.host_model;
}

StepStats CudaTrainer::step() {
  Impl& s = *impl_;
  const long it = s.iteration + 1;  // INRIA counts iterations from 1
  const TrainOptions& o = s.options;
  s.host_model_fresh = false;
  LearningRates lr = o.lr;
  lr.means = exponential_lr(o.lr.means * s.extent, o.position_lr_final * s.extent, it, o.iterations);
  if (o.sh_increase_interval > 0 && it % o.sh_increase_interval == 0)
    s.active_sh_degree = std::min(s.active_sh_degree + 1, s.sh_degree);

  const int view = s.next_view();
  const Camera& cam = s.dataset.cameras[size_t(view)];
  const float* gt = s.device_image(view);
  RenderOptions ro;
  ro.sh_degree = s.active_sh_degree;
  ro.background = o.random_background ? glm::vec3(s.rng.uniform(), s.rng.uniform(), s.rng.uniform()) : o.background;

  // forward → loss → backward, all on device arrays.
  const GaussianParams dp = s.device_params();
  s.raster.forward(cam, dp, ro);
  const size_t pixels = size_t(cam.width) * size_t(cam.height);
  s.color_grad.resize(pixels * 3);
  s.loss.compute(cam.width, cam.height, 3, s.raster.color(), gt, o.lambda_dssim, s.color_grad.get());
  s.raster.backward(s.color_grad.get(), nullptr, nullptr, nullptr, s.gradient_pointers());
  if (it < s.schedule.until)
    cuda_accumulate_densify_stats(s.count, s.raster.radii(), s.means2d_grad.get(), cam.width, cam.height,
                                  s.grad_accum.get(), s.visible_count.get(), s.max_radius.get());
  ++s.adam_step;
  cuda_fused_adam(s.layout(), s.params.get(), s.grads.get(), s.adam_m.get(), s.adam_v.get(), lr,
                  s.optimizer.beta1, s.optimizer.beta2, s.optimizer.eps, s.adam_step);
  // The loss sums (one small read back; also surfaces any kernel error of this iteration).
  const CudaPhotometricLoss::Values lv = s.loss.values();
  if (!std::isfinite(lv.value))
    throw_internal("loss became " + std::to_string(lv.value) + " at iteration " + std::to_string(it));

  StepStats stats;
  if (it < s.schedule.until) {
    const bool densify = it > s.schedule.from && it % s.schedule.interval == 0;
    const bool reset = it % s.schedule.opacity_reset_interval == 0;
    if (densify || reset) {  // host round trip: the CPU's DensityController is the reference
      GaussianModel model;
      AdamState adam;
      DensityController density;
      s.download(model, adam, density);
      if (densify)
        stats.densified = density.densify_and_prune(model, adam, s.extent, it > s.schedule.opacity_reset_interval,
                                                    s.rng, o.densify);
      if (reset) DensityController::reset_opacity(model, adam);
      s.upload(model, adam, density);
    }
  }

  s.iteration = it;
  s.loss_ema = it == 1 ? float(lv.value) : 0.4f * float(lv.value) + 0.6f * s.loss_ema;
  stats.iteration = it;
  stats.loss = float(lv.value);
  stats.loss_ema = s.loss_ema;
  stats.psnr = lv.mse > 0 ? float(std::min(99.0, 10.0 * std::log10(1.0 / lv.mse))) : 99.0f;
  stats.gaussians = s.count;
  return stats;
}

std::string CudaTrainer::device() const { return "cuda: " + cuda_device_description(); }

void CudaTrainer::save_checkpoint(const std::string&) const {
  throw_bad_input("checkpoint", checkpoints_unsupported() + " (use --device cpu)");
}
void CudaTrainer::load_checkpoint(const std::string&) {
  throw_bad_input("--resume", checkpoints_unsupported() + " (use --device cpu)");
}
void CudaTrainer::set_pseudo_targets(std::vector<PseudoTarget>, const PseudoTargetOptions&) {
  throw_bad_input("pseudo targets", "the CUDA trainer does not take pseudo targets (the diffusion prior): use --device cpu");
}
void CudaTrainer::set_depth_priors(std::vector<DepthPrior>) {
  throw_bad_input("depth prior", "the CUDA trainer does not take depth priors: use --device cpu");
}
Rasterizer& CudaTrainer::rasterizer() {
  if (!impl_->host_rasterizer) impl_->host_rasterizer = make_cuda_rasterizer();
  return *impl_->host_rasterizer;
}

}  // namespace sp

namespace sp {

std::string cuda_device_description() {
  if (!cuda_device_available()) return "";
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  int driver = 0;
  cudaDriverGetVersion(&driver);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.200s, %d SMs, %.0f GiB, driver CUDA %d.%d", p.name, p.multiProcessorCount,
                double(p.totalGlobalMem) / double(1u << 30), driver / 1000, (driver % 1000) / 10);
  return buf;
}

}  // namespace sp
