#include "engine/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/eval/metrics.h"
#include "engine/train/losses.h"

namespace sp {

DensifySchedule resolve_schedule(const TrainOptions& o) {
  // INRIA (30000 iterations): densify from 500 to 15000 every 100, reset opacity every 3000.
  // Shorter runs keep the same fractions of the run for the window, but not for the
  // intervals: densifying more often than every 25 iterations averages the gradient over
  // too few views and multiplies the Gaussians out of control, and opacities need about a
  // thousand iterations to recover from a reset.
  const double s = double(o.iterations) / 30000.0;
  auto pick = [](long given, long automatic) { return given >= 0 ? given : automatic; };
  DensifySchedule d;
  d.from = pick(o.densify_from, std::max(1L, long(std::lround(500 * s))));
  d.until = pick(o.densify_until, long(std::lround(15000 * s)));
  d.interval = std::max(1L, pick(o.densify_interval, std::clamp(long(std::lround(100 * s)), 25L, 100L)));
  d.opacity_reset_interval =
      std::max(1L, pick(o.opacity_reset_interval, std::max(1000L, long(std::lround(3000 * s)))));
  return d;
}

Trainer::Trainer(const Dataset& dataset, GaussianModel initial, const TrainOptions& options, Rasterizer& rasterizer)
    : dataset_(dataset),
      options_(options),
      schedule_(resolve_schedule(options)),
      rasterizer_(rasterizer),
      model_(std::move(initial)),
      rng_(options.seed) {
  if (dataset_.train_ids.empty()) throw_bad_input(dataset_.root, "no train views to optimize on");
  if (options_.iterations < 0) throw_bad_input("--iterations", "must be >= 0");
  model_.validate("initial model");
  adam_.reset_like(model_);
  density_.resize(model_.size());
  extent_ = dataset_.scene_extent();
  active_sh_degree_ = 0;
}

int Trainer::next_view() {
  // INRIA pops views from a shuffled copy of the train set, refilled when empty.
  if (view_stack_.empty()) {
    view_stack_ = dataset_.train_ids;
    std::shuffle(view_stack_.begin(), view_stack_.end(), rng_.engine());
  }
  const int v = view_stack_.back();
  view_stack_.pop_back();
  return v;
}

StepStats Trainer::step() {
  const long it = iteration_ + 1;  // INRIA counts iterations from 1
  LearningRates lr = options_.lr;
  lr.means = exponential_lr(options_.lr.means * extent_, options_.position_lr_final * extent_, it,
                            options_.iterations);
  if (options_.sh_increase_interval > 0 && it % options_.sh_increase_interval == 0)
    active_sh_degree_ = std::min(active_sh_degree_ + 1, model_.sh_degree);

  const int view = next_view();
  const Camera& cam = dataset_.cameras[size_t(view)];
  const std::shared_ptr<const Image> gt_ptr = dataset_.image_ptr(view);  // cached, not copied
  const Image& gt = *gt_ptr;

  RenderOptions ro;
  ro.sh_degree = active_sh_degree_;
  ro.background = options_.random_background ? glm::vec3(rng_.uniform(), rng_.uniform(), rng_.uniform())
                                             : options_.background;
  const GaussianParams params = params_of(model_);
  RenderOutput out = rasterizer_.forward(cam, params, ro);

  const PhotometricLoss loss = photometric_loss(out.color, gt, options_.lambda_dssim);
  if (!std::isfinite(loss.value))
    throw_internal("loss became " + std::to_string(loss.value) + " at iteration " + std::to_string(it));

  GaussianGradients grads;
  OutputGradients og;
  og.color = &loss.grad;
  rasterizer_.backward(cam, params, ro, out, og, grads);

  StepStats stats;
  if (it < schedule_.until) density_.accumulate(out, grads, cam.width, cam.height);
  optimizer_.step(model_, grads, adam_, lr);

  if (it < schedule_.until) {
    if (it > schedule_.from && it % schedule_.interval == 0) {
      const bool prune_screen = it > schedule_.opacity_reset_interval;
      stats.densified = density_.densify_and_prune(model_, adam_, extent_, prune_screen, rng_, options_.densify);
    }
    if (it % schedule_.opacity_reset_interval == 0) DensityController::reset_opacity(model_, adam_);
  }

  iteration_ = it;
  loss_ema_ = it == 1 ? float(loss.value) : 0.4f * float(loss.value) + 0.6f * loss_ema_;
  stats.iteration = it;
  stats.loss = float(loss.value);
  stats.loss_ema = loss_ema_;
  stats.psnr = float(std::min(99.0, psnr(out.color, gt)));
  stats.gaussians = model_.size();

  if (options_.checkpoint_interval > 0 && it % options_.checkpoint_interval == 0 && !options_.checkpoint_dir.empty()) {
    std::filesystem::create_directories(options_.checkpoint_dir);
    char name[64];
    std::snprintf(name, sizeof name, "ckpt_%06ld.bin", it);
    save_checkpoint((std::filesystem::path(options_.checkpoint_dir) / name).string());
  }
  return stats;
}

void Trainer::run(const std::function<void(const StepStats&)>& on_step) {
  while (iteration_ < options_.iterations) {
    const StepStats s = step();
    if (on_step) on_step(s);
  }
}

// ---- checkpoints --------------------------------------------------------------------
// Layout: "SPCKPT1\n", then records [u32 name length][name][u64 byte count][bytes], with
// name "meta" holding key=value lines and the rest raw little-endian float32 arrays.
namespace {
constexpr char kMagic[] = "SPCKPT1\n";

void put_record(std::ostream& out, const std::string& name, const void* data, uint64_t bytes) {
  const uint32_t n = uint32_t(name.size());
  out.write(reinterpret_cast<const char*>(&n), 4);
  out.write(name.data(), n);
  out.write(reinterpret_cast<const char*>(&bytes), 8);
  out.write(static_cast<const char*>(data), std::streamsize(bytes));
}
void put_floats(std::ostream& out, const std::string& name, const std::vector<float>& v) {
  put_record(out, name, v.data(), v.size() * sizeof(float));
}

struct Records {
  std::map<std::string, std::string> bytes;
  std::map<std::string, std::string> meta;
};

Records parse_records(const std::string& path) {
  const std::string data = read_file(path);
  if (data.size() < 8 || std::memcmp(data.data(), kMagic, 8) != 0)
    throw_bad_input(path, "not a sparsplat checkpoint (bad magic)");
  Records r;
  size_t pos = 8;
  while (pos < data.size()) {
    uint32_t n = 0;
    uint64_t bytes = 0;
    if (data.size() - pos < 4) throw_bad_input(path, "truncated record header at byte " + std::to_string(pos));
    std::memcpy(&n, data.data() + pos, 4);
    pos += 4;
    if (data.size() - pos < uint64_t(n) + 8) throw_bad_input(path, "truncated record name at byte " + std::to_string(pos));
    std::string name = data.substr(pos, n);
    pos += n;
    std::memcpy(&bytes, data.data() + pos, 8);
    pos += 8;
    if (data.size() - pos < bytes) throw_bad_input(path, "record '" + name + "' is truncated");
    r.bytes[name] = data.substr(pos, size_t(bytes));
    pos += size_t(bytes);
  }
  std::istringstream meta(r.bytes["meta"]);
  for (std::string line; std::getline(meta, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) r.meta[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return r;
}

long meta_long(const Records& r, const std::string& key, const std::string& path) {
  auto it = r.meta.find(key);
  if (it == r.meta.end()) throw_bad_input(path, "checkpoint lacks '" + key + "'");
  try {
    return std::stol(it->second);
  } catch (...) {
    throw_bad_input(path, "checkpoint field '" + key + "' is not a number");
  }
}

void get_floats(const Records& r, const std::string& name, std::vector<float>& v, size_t expected,
                const std::string& path) {
  auto it = r.bytes.find(name);
  if (it == r.bytes.end()) throw_bad_input(path, "checkpoint lacks array '" + name + "'");
  if (it->second.size() != expected * sizeof(float))
    throw_bad_input(path, "array '" + name + "' has " + std::to_string(it->second.size() / 4) + " values, expected " +
                              std::to_string(expected));
  v.resize(expected);
  std::memcpy(v.data(), it->second.data(), it->second.size());
}

void put_model(std::ostream& out, const std::string& prefix, const GaussianModel& m) {
  put_floats(out, prefix + "means", m.means);
  put_floats(out, prefix + "log_scales", m.log_scales);
  put_floats(out, prefix + "rotations", m.rotations);
  put_floats(out, prefix + "opacities", m.opacities);
  put_floats(out, prefix + "sh", m.sh);
  put_floats(out, prefix + "extras", m.extras);
}
void get_model(const Records& r, const std::string& prefix, GaussianModel& m, size_t n, const std::string& path) {
  get_floats(r, prefix + "means", m.means, n * 3, path);
  get_floats(r, prefix + "log_scales", m.log_scales, n * 3, path);
  get_floats(r, prefix + "rotations", m.rotations, n * 4, path);
  get_floats(r, prefix + "opacities", m.opacities, n, path);
  get_floats(r, prefix + "sh", m.sh, n * size_t(m.sh_coeffs()) * 3, path);
  get_floats(r, prefix + "extras", m.extras, n * size_t(m.extra_channels), path);
}
}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
  std::ostringstream meta;
  meta << "iteration=" << iteration_ << "\nactive_sh_degree=" << active_sh_degree_ << "\nsh_degree=" << model_.sh_degree
       << "\nextra_channels=" << model_.extra_channels << "\ngaussians=" << model_.size()
       << "\nadam_step=" << adam_.step << "\nloss_ema_bits=";
  uint32_t ema_bits;
  std::memcpy(&ema_bits, &loss_ema_, 4);
  meta << ema_bits << "\nviews=" << dataset_.size() << "\n";
  std::ostringstream rng_state;
  rng_state << rng_.engine();
  const std::string meta_s = meta.str(), rng_s = rng_state.str();
  std::vector<int> stack = view_stack_;
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(kMagic, 8);
    put_record(out, "meta", meta_s.data(), meta_s.size());
    put_record(out, "rng", rng_s.data(), rng_s.size());
    put_record(out, "view_stack", stack.data(), stack.size() * sizeof(int));
    put_model(out, "model.", model_);
    put_model(out, "adam_m.", adam_.m);
    put_model(out, "adam_v.", adam_.v);
    put_floats(out, "density.grad_accum", density_.grad_accum);
    put_floats(out, "density.visible_count", density_.visible_count);
    put_floats(out, "density.max_radius", density_.max_radius);
  });
}

void Trainer::load_checkpoint(const std::string& path) {
  const Records r = parse_records(path);
  const long views = meta_long(r, "views", path);
  if (size_t(views) != dataset_.size())
    throw_bad_input(path, "checkpoint was made on a dataset of " + std::to_string(views) + " views, this one has " +
                              std::to_string(dataset_.size()));
  const long n = meta_long(r, "gaussians", path);
  const long degree = meta_long(r, "sh_degree", path);
  const long extras = meta_long(r, "extra_channels", path);
  if (n < 0 || degree < 0 || degree > 3 || extras < 0 || extras > 4096)
    throw_bad_input(path, "checkpoint header out of range");
  GaussianModel model, m, v;
  for (GaussianModel* g : {&model, &m, &v}) {
    g->sh_degree = int(degree);
    g->extra_channels = int(extras);
  }
  get_model(r, "model.", model, size_t(n), path);
  get_model(r, "adam_m.", m, size_t(n), path);
  get_model(r, "adam_v.", v, size_t(n), path);
  model.validate(path);
  DensityController density;
  get_floats(r, "density.grad_accum", density.grad_accum, size_t(n), path);
  get_floats(r, "density.visible_count", density.visible_count, size_t(n), path);
  get_floats(r, "density.max_radius", density.max_radius, size_t(n), path);
  const auto stack_it = r.bytes.find("view_stack");
  const auto rng_it = r.bytes.find("rng");
  if (stack_it == r.bytes.end() || rng_it == r.bytes.end() || stack_it->second.size() % sizeof(int) != 0)
    throw_bad_input(path, "checkpoint lacks its RNG or view order");
  std::vector<int> stack(stack_it->second.size() / sizeof(int));
  std::memcpy(stack.data(), stack_it->second.data(), stack_it->second.size());
  for (int s : stack)
    if (s < 0 || size_t(s) >= dataset_.size()) throw_bad_input(path, "checkpoint view order names a missing view");
  std::istringstream rng_in(rng_it->second);
  Rng rng;
  rng_in >> rng.engine();
  if (!rng_in) throw_bad_input(path, "checkpoint RNG state is unreadable");

  const uint32_t ema_bits = uint32_t(meta_long(r, "loss_ema_bits", path));
  model_ = std::move(model);
  adam_.m = std::move(m);
  adam_.v = std::move(v);
  adam_.step = meta_long(r, "adam_step", path);
  density_ = std::move(density);
  view_stack_ = std::move(stack);
  rng_ = rng;
  iteration_ = meta_long(r, "iteration", path);
  active_sh_degree_ = int(std::clamp(meta_long(r, "active_sh_degree", path), 0L, degree));
  std::memcpy(&loss_ema_, &ema_bits, 4);
}

}  // namespace sp
