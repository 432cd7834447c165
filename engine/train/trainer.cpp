#include "engine/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/parallel.h"
#include "engine/eval/metrics.h"
#include "engine/scene/initialization.h"
#include "engine/scene/view_volume.h"
#include "engine/train/appearance.h"
#include "engine/train/binocular.h"
#include "engine/train/finite_check.h"
#include "engine/train/losses.h"
#include "engine/train/pseudo_views.h"
#include "engine/train/regularizers.h"
#include "engine/train/robust_loss.h"

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
      rng_(options.seed),
      early_stop_(options.early_stop) {
  if (dataset_.train_ids.empty()) throw_bad_input(dataset_.root, "no train views to optimize on");
  if (options_.iterations < 0) throw_bad_input("--iterations", "must be >= 0");
  const SparseViewOptions& sv = options_.sparse;
  if (sv.pseudo_resolution <= 0.0f || sv.pseudo_resolution > 1.0f)
    throw_bad_input("pseudo view resolution", "must be in (0, 1]");
  if (sv.co_prune_rounds < 1 || sv.unpool_rounds < 1) throw_bad_input("co-pruning/unpooling rounds", "must be >= 1");
  if (sv.binocular_every < 1 || sv.pseudo_every < 1) throw_bad_input("binocular/pseudo view interval", "must be >= 1");
  initial.validate("initial model");
  fingerprint_ = checkpoint_fingerprint(dataset_, options_);  // the options as given (before the budget grows)
  if (sv.budget_growth > 0 && options_.densify.max_gaussians > 0)
    options_.densify.max_gaussians =
        std::max(options_.densify.max_gaussians, size_t(double(sv.budget_growth) * double(initial.size())));
  fields_.resize(sv.co_training ? 2 : 1);
  if (fields_.size() == 2 && std::string_view(rasterizer.name()) == "cpu") partner_rasterizer_ = make_cpu_rasterizer();
  for (size_t f = 0; f < fields_.size(); ++f) {
    Field& field = fields_[f];
    field.model = initial;
    field.adam.reset_like(field.model);
    field.density.resize(field.model.size());
    // Field 0 splits with the trainer's generator (as without co-training); the partner
    // has its own seed, the "different randomness" of CoR-GS.
    field.rng = Rng(options.seed ^ (0x9E3779B97F4A7C15ull * (f + 1)));
  }
  if (options_.appearance.enabled) {
    if (!(options_.appearance.lr >= 0.0f)) throw_bad_input("appearance learning rate", "must be >= 0");
    std::vector<std::string> names;
    appearance_slot_.assign(dataset_.size(), -1);
    for (size_t k = 0; k < dataset_.train_ids.size(); ++k) {
      names.push_back(dataset_.cameras[size_t(dataset_.train_ids[k])].name);
      appearance_slot_[size_t(dataset_.train_ids[k])] = int(k);
    }
    appearance_ = identity_appearance_codes(names);
    appearance_adam_.reset(names.size());
  }
  if (options_.robust.enabled && !(options_.robust.inlier_quantile > 0.0f && options_.robust.inlier_quantile <= 1.0f))
    throw_bad_input("robust loss", "inlier quantile must be in (0, 1]");
  extent_ = dataset_.scene_extent();
  for (int id : dataset_.train_ids) train_centers_.push_back(dataset_.cameras[size_t(id)].center());
  active_sh_degree_ = 0;
  if (sv.backdrop_alpha > 0) {
    backdrop_.resize(dataset_.size());
    size_t pixels = 0, found = 0;
    for (int id : dataset_.train_ids) {
      Image m = dark_backdrop_mask(*dataset_.image_ptr(id), sv.backdrop);
      size_t n = 0;
      for (float v : m.pixels) n += v > 0.5f;
      pixels += m.pixels.size();
      found += n;
      if (n > 0) backdrop_[size_t(id)] = std::move(m);  // a view without backdrop trains as usual
    }
    char line[96];
    std::snprintf(line, sizeof line, "backdrop: %.1f%% of the train pixels are dark backdrop",
                  100.0 * double(found) / double(std::max<size_t>(1, pixels)));
    log_info(line);
  }
  if (sv.start_box_margin > 0 && initial.size() > 0) {
    for (int a = 0; a < 3; ++a) {
      std::vector<float> v(initial.size());
      for (size_t i = 0; i < v.size(); ++i) v[i] = initial.means[3 * i + size_t(a)];
      std::sort(v.begin(), v.end());
      const float lo = v[size_t(0.01 * double(v.size() - 1))], hi = v[size_t(0.99 * double(v.size() - 1))];
      box_lo_[a] = lo - sv.start_box_margin * (hi - lo);
      box_hi_[a] = hi + sv.start_box_margin * (hi - lo);
    }
  }
  if (sv.binocular > 0) {
    double sum = 0;
    for (size_t a = 0; a < train_centers_.size(); ++a) {
      float best = 0;
      for (size_t b = 0; b < train_centers_.size(); ++b)
        if (a != b) {
          const float d = glm::length(train_centers_[a] - train_centers_[b]);
          best = best == 0 ? d : std::min(best, d);
        }
      sum += double(best);
    }
    baseline_ = train_centers_.size() > 1 ? float(sum / double(train_centers_.size())) : 0.05f * extent_;
  }
  if (sv.min_views_seen > 0) {
    for (int id : dataset_.train_ids) train_cameras_.push_back(dataset_.cameras[size_t(id)]);
    estimate_depth_range(dataset_, near_depth_, far_depth_);
  }
  if (sv.pseudo_views > 0) {
    std::vector<Camera> train;
    for (int id : dataset_.train_ids) train.push_back(dataset_.cameras[size_t(id)]);
    pseudo_cameras_ = interpolated_pseudo_cameras(train, sv.pseudo_views, options.seed + 0x5eed);
    glm::vec3 focus;
    if (sv.pseudo_tilt > 0 && rig_focus(train, focus)) {
      Rng tilt_rng(options.seed + 0x711f);
      tilt_about(pseudo_cameras_, focus, sv.pseudo_tilt * mean_neighbour_angle(train, focus), tilt_rng);
    }
    for (Camera& c : pseudo_cameras_)
      c = c.resized(std::max(16, int(std::lround(c.width * sv.pseudo_resolution))),
                    std::max(16, int(std::lround(c.height * sv.pseudo_resolution))));
  }
}

void Trainer::set_pseudo_targets(std::vector<PseudoTarget> targets, const PseudoTargetOptions& options) {
  if (options.sample_probability < 0.0f || options.sample_probability > 1.0f)
    throw_bad_input("pseudo targets", "sample probability must be in [0, 1]");
  if (!(options.loss_weight >= 0.0f)) throw_bad_input("pseudo targets", "loss weight must be >= 0");
  for (const PseudoTarget& t : targets) {
    const Camera& c = t.camera;
    if (c.width <= 0 || c.height <= 0) throw_bad_input("pseudo target " + c.name, "camera has no size");
    if (t.image.width != c.width || t.image.height != c.height || t.image.channels != 3)
      throw_bad_input("pseudo target " + c.name, "image must be 3 channels at the camera's size");
    if (!t.mask.empty() && (t.mask.width != c.width || t.mask.height != c.height || t.mask.channels != 1))
      throw_bad_input("pseudo target " + c.name, "mask must be 1 channel at the camera's size");
  }
  pseudo_targets_ = std::move(targets);
  pseudo_target_options_ = options;
}

void Trainer::set_depth_priors(std::vector<DepthPrior> priors) {
  depth_prior_.assign(dataset_.size(), Image());
  for (DepthPrior& p : priors) {
    if (p.view < 0 || size_t(p.view) >= dataset_.size()) throw_bad_input("depth prior", "view out of range");
    const Camera& c = dataset_.cameras[size_t(p.view)];
    if (p.depth.width != c.width || p.depth.height != c.height || p.depth.channels != 1)
      throw_bad_input("depth prior of " + c.name, "must be 1 channel at the camera's size");
    depth_prior_[size_t(p.view)] = std::move(p.depth);
  }
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

namespace {

std::vector<float>* gradient_group(GaussianGradients& g, const std::string& group) {
  if (group == "means") return &g.means;
  if (group == "scales") return &g.log_scales;
  if (group == "rotations") return &g.rotations;
  if (group == "opacities") return &g.opacities;
  if (group == "sh") return &g.sh;
  if (group == "extras") return &g.extras;
  return nullptr;
}

void add_into(std::vector<float>& acc, const std::vector<float>& g) {
  if (acc.size() != g.size()) throw_internal("gradient sizes differ");
  for (size_t i = 0; i < acc.size(); ++i) acc[i] += g[i];
}
// acc += g for every parameter array (not the 2D means: densification statistics come from
// the train-view render only). Of each Gaussian's SH row only the coefficients up to the
// rendered degree: the others are zero in both.
void add_gradients(GaussianGradients& acc, const GaussianGradients& g, int sh_degree) {
  add_into(acc.means, g.means);
  add_into(acc.log_scales, g.log_scales);
  add_into(acc.rotations, g.rotations);
  add_into(acc.opacities, g.opacities);
  add_into(acc.extras, g.extras);
  if (acc.sh.size() != g.sh.size() || acc.opacities.empty()) return add_into(acc.sh, g.sh);
  const size_t row = acc.sh.size() / acc.opacities.size();
  const size_t used = std::min(row, size_t(sh_coeff_count(std::clamp(sh_degree, 0, 3))) * 3);
  for (size_t i = 0; i < acc.sh.size(); i += row)
    for (size_t k = 0; k < used; ++k) acc.sh[i + k] += g.sh[i + k];
}

void scale_image(Image& im, float k) {
  for (float& v : im.pixels) v *= k;
}

// 1 - mask: the pixels a loss keeps.
Image inverted(const Image& mask) {
  Image out = mask;
  for (float& v : out.pixels) v = 1.0f - v;
  return out;
}

// d(weight x mean alpha² over the mask's pixels)/d alpha (regularizers.h).
Image masked_alpha_penalty_gradient(const Image& alpha, const Image& mask, float weight) {
  Image g(alpha.width, alpha.height, 1);
  masked_alpha_penalty<float>(alpha.pixels.data(), mask.pixels.data(), alpha.pixels.size(), g.pixels.data(), weight);
  return g;
}

// 1 / the mean rendered depth (alpha-weighted), the scale that makes depth smoothness
// independent of the scene's units.
float inverse_mean_depth(const RenderOutput& out) {
  double d = 0, a = 0;
  for (float v : out.depth.pixels) d += double(v);
  for (float v : out.alpha.pixels) a += double(v);
  return d > 1e-12 && a > 1e-12 ? float(a / d) : 0.0f;
}

// The edge-aware depth smoothness and curvature of `out` (guide = `guide`), as a fresh depth gradient.
Image depth_smoothness_gradient(const RenderOutput& out, const Image& guide, const SparseViewOptions& sv) {
  Image g(out.depth.width, out.depth.height, 1);
  const float scale = inverse_mean_depth(out);
  if (!(scale > 0)) return g;
  const int w = out.depth.width, h = out.depth.height;
  if (sv.depth_smoothness > 0)
    edge_aware_depth_smoothness<float>(w, h, out.depth.pixels.data(), guide.pixels.data(), scale, sv.depth_edge_gamma,
                                       g.pixels.data(), sv.depth_smoothness);
  if (sv.depth_curvature > 0)
    edge_aware_depth_curvature<float>(w, h, out.depth.pixels.data(), guide.pixels.data(), scale, sv.depth_edge_gamma,
                                      g.pixels.data(), sv.depth_curvature);
  return g;
}

bool smooths_depth(const SparseViewOptions& sv) { return sv.depth_smoothness > 0 || sv.depth_curvature > 0; }

}  // namespace

void Trainer::add_gaussian_regularizers(Field& field, GaussianGradients& grads) const {
  const SparseViewOptions& sv = options_.sparse;
  const GaussianModel& m = field.model;
  if (sv.opacity_entropy > 0)
    opacity_entropy<float>(m.opacities.data(), m.size(), grads.opacities.data(), sv.opacity_entropy);
  if (sv.scale_penalty > 0)
    scale_penalty<float>(m.log_scales.data(), m.size(), sv.max_scale * extent_, grads.log_scales.data(),
                         sv.scale_penalty);
  if (sv.anisotropy_penalty > 0)
    anisotropy_penalty<float>(m.log_scales.data(), m.size(), sv.max_anisotropy, grads.log_scales.data(),
                              sv.anisotropy_penalty);
}

size_t Trainer::prune_outside(Field& field) const {
  const SparseViewOptions& sv = options_.sparse;
  const size_t n = field.model.size();
  std::vector<bool> keep(n, true);
  if (sv.min_views_seen > 0) {
    const auto seen =
        views_seeing(field.model.means.data(), n, train_cameras_, 0.5f * near_depth_, 2.0f * far_depth_);
    for (size_t i = 0; i < n; ++i) keep[i] = seen[i] >= sv.min_views_seen;
  }
  if (sv.start_box_margin > 0)
    for (size_t i = 0; i < n; ++i)
      for (int a = 0; a < 3; ++a) {
        const float x = field.model.means[3 * i + size_t(a)];
        if (!(x >= box_lo_[a] && x <= box_hi_[a])) keep[i] = false;
      }
  size_t dropped = 0;
  for (size_t i = 0; i < n; ++i) dropped += !keep[i];
  if (dropped == 0) return 0;
  field.model.filter(keep);
  field.adam.m.filter(keep);
  field.adam.v.filter(keep);
  field.density.resize(field.model.size());
  return dropped;
}

StepStats Trainer::step() {
  const long it = iteration_ + 1;  // INRIA counts iterations from 1
  const SparseViewOptions& sv = options_.sparse;
  // The state a poison value rolls back to: the start, then every rollback_interval iterations.
  clock_.lap("rollback copies");
  if (options_.rollback_interval > 0 &&
      (snapshot_.iteration < 0 || (iteration_ % options_.rollback_interval == 0 && snapshot_.iteration != iteration_)))
    take_snapshot();
  clock_.lap("render");
  LearningRates lr = options_.lr;
  lr.means = exponential_lr(options_.lr.means * extent_, options_.position_lr_final * extent_, it,
                            options_.iterations);
  // x1 exactly until a rollback halves a group, so runs without poison are unchanged.
  lr.means *= lr_factor_.means;
  lr.sh_dc *= lr_factor_.sh_dc;
  lr.sh_rest *= lr_factor_.sh_rest;
  lr.opacities *= lr_factor_.opacities;
  lr.log_scales *= lr_factor_.log_scales;
  lr.rotations *= lr_factor_.rotations;
  lr.extras *= lr_factor_.extras;
  if (options_.sh_increase_interval > 0 && it % options_.sh_increase_interval == 0)
    active_sh_degree_ = std::min(active_sh_degree_ + 1, fields_[0].model.sh_degree);

  // A pseudo target (from outside, e.g. the diffusion prior) or a train view. The generator
  // is only consulted when targets exist, so runs without them are unchanged.
  const PseudoTarget* target = nullptr;
  if (!pseudo_targets_.empty() && rng_.uniform() < pseudo_target_options_.sample_probability)
    target = &pseudo_targets_[size_t(rng_.index(int(pseudo_targets_.size())))];
  std::shared_ptr<const Image> gt_ptr;
  const Camera* cam_ptr = nullptr;
  int view = -1;
  if (target) {
    cam_ptr = &target->camera;
  } else {
    view = next_view();
    cam_ptr = &dataset_.cameras[size_t(view)];
    gt_ptr = dataset_.image_ptr(view);  // cached, not copied
  }
  const Camera& cam = *cam_ptr;
  const Image& gt = target ? target->image : *gt_ptr;

  RenderOptions ro;
  ro.sh_degree = active_sh_degree_;
  ro.background = options_.random_background ? glm::vec3(rng_.uniform(), rng_.uniform(), rng_.uniform())
                                             : options_.background;

  // The binocular pair of this step (one shift for both co-trained fields).
  const bool binocular = sv.binocular > 0 && !target && it % sv.binocular_every == 0 &&
                         double(it) >= double(sv.binocular_from) * double(options_.iterations);
  Camera shifted;
  if (binocular) {
    const float d = rng_.uniform(-1.0f, 1.0f) * sv.binocular_shift * baseline_;
    shifted = cam;
    shifted.t.x -= d;  // centre moved by d along the camera's x axis
  }

  StepStats stats;
  stats.pseudo_target = target != nullptr;
  stats.binocular = binocular;
  const size_t nf = fields_.size();
  // Reused from step to step (every backward overwrites them whole): no fresh megabytes to
  // clear and fault in per render.
  grads_.resize(nf);
  scratch_grads_.resize(nf);
  std::vector<GaussianGradients>& grads = grads_;
  // With a second rasterizer, the co-trained fields render and differentiate at the same
  // time on two halves of the threads (run_pair): no field touches the other's state until
  // the co-regularization, and the results are the same as one after the other.
  const bool pair = nf == 2 && partner_rasterizer_ != nullptr && thread_count() >= 2;
  // The clock is the thread's of field 0 when the fields run side by side.
  auto lap = [&](size_t f, const char* part) {
    if (!pair || f == 0) clock_.lap(part);
  };
  auto for_fields = [&](const std::function<void(size_t)>& body) {
    if (pair) {
      run_pair([&](int f) { body(size_t(f)); });
    } else {
      for (size_t f = 0; f < nf; ++f) body(f);
    }
  };
  std::vector<double> loss_value(nf, 0.0);
  float psnr0 = 0;
  // The photo's colour code (both co-trained fields see the photo through it; each field
  // sums its gradient apart, so they can run side by side) and whether the trimmed loss has started.
  const int slot = !target && options_.appearance.enabled ? appearance_slot_[size_t(view)] : -1;
  const std::vector<float> code = slot >= 0 ? appearance_.code(size_t(slot)) : std::vector<float>();
  std::vector<std::vector<float>> field_code_grad(nf, std::vector<float>(kAppearanceParams, 0.0f));
  const bool robust =
      !target && options_.robust.enabled && double(it) >= double(options_.robust.from) * double(options_.iterations);
  for_fields([&](size_t f) {
    Field& field = fields_[f];
    Rasterizer& raster = rasterizer_of(f);
    const GaussianParams params = params_of(field.model);
    lap(f, "render");
    RenderOutput out = raster.forward(cam, params, ro);
    lap(f, "loss");
    // The dark backdrop of a train photo (backdrop.h) carries no photometric loss; its alpha
    // is pulled to 0 instead.
    const Image* backdrop =
        !target && !backdrop_.empty() && !backdrop_[size_t(view)].empty() ? &backdrop_[size_t(view)] : nullptr;
    // The render as this photo's look (its colour code), and the pixels the trimmed loss keeps.
    const Image shown = slot >= 0 ? apply_affine_colour(code, out.color, true) : Image();
    const Image& color = slot >= 0 ? shown : out.color;
    Image weight;
    if (robust) {
      weight = transient_inlier_mask(color, gt, options_.robust);
      if (backdrop)
        for (size_t p = 0; p < weight.pixels.size(); ++p) weight.pixels[p] *= 1.0f - backdrop->pixels[p];
    }
    PhotometricLoss loss = target            ? masked_photometric_loss(color, gt, target->mask, options_.lambda_dssim)
                           : !weight.empty() ? masked_photometric_loss(color, gt, weight, options_.lambda_dssim)
                           : backdrop ? masked_photometric_loss(color, gt, inverted(*backdrop), options_.lambda_dssim)
                                      : photometric_loss(color, gt, options_.lambda_dssim);
    loss_value[f] = loss.value;
    if (!std::isfinite(loss.value)) return;  // rolled back below
    if (target) scale_image(loss.grad, pseudo_target_options_.loss_weight);
    if (slot >= 0) {
      Image to_render(out.color.width, out.color.height, 3);
      affine_colour_backward(code.data(), out.color.pixels.data(), loss.grad.pixels.data(), to_render.pixels.data(),
                             field_code_grad[f].data(), out.color.pixel_count(), true);
      loss.grad = std::move(to_render);
    }
    OutputGradients og;
    og.color = &loss.grad;
    Image depth_grad, alpha_grad;
    if (smooths_depth(sv)) {
      depth_grad = depth_smoothness_gradient(out, gt, sv);
      og.depth = &depth_grad;
    }
    if (backdrop) {
      alpha_grad = masked_alpha_penalty_gradient(out.alpha, *backdrop, sv.backdrop_alpha);
      og.alpha = &alpha_grad;
    }
    RenderOutput shifted_out;
    Image shifted_grad;
    if (binocular) {
      lap(f, "binocular");
      shifted_out = raster.forward(shifted, params, ro);
      shifted_grad = Image(cam.width, cam.height, 3);
      if (depth_grad.empty()) depth_grad = Image(out.depth.width, out.depth.height, 1);
      if (alpha_grad.empty()) alpha_grad = Image(out.alpha.width, out.alpha.height, 1);
      binocular_consistency<float>(cam.width, cam.height, shifted_out.color.pixels.data(), out.depth.pixels.data(),
                                   out.alpha.pixels.data(), gt.pixels.data(), cam.fx * (cam.t.x - shifted.t.x), 0.5f,
                                   shifted_grad.pixels.data(), depth_grad.pixels.data(), alpha_grad.pixels.data(),
                                   sv.binocular * float(sv.binocular_every));
      og.depth = &depth_grad;
      og.alpha = &alpha_grad;
      lap(f, "loss");
    }
    if (!target && sv.depth_prior > 0 && !depth_prior_.empty() && !depth_prior_[size_t(view)].empty()) {
      if (depth_grad.empty()) depth_grad = Image(out.depth.width, out.depth.height, 1);
      if (alpha_grad.empty()) alpha_grad = Image(out.alpha.width, out.alpha.height, 1);
      depth_prior_l1<float>(out.depth.pixels.data(), out.alpha.pixels.data(), depth_prior_[size_t(view)].pixels.data(),
                            out.depth.pixels.size(), depth_grad.pixels.data(), alpha_grad.pixels.data(),
                            sv.depth_prior);
      og.depth = &depth_grad;
      og.alpha = &alpha_grad;
    }
    lap(f, "backward");
    raster.backward(cam, params, ro, out, og, grads[f]);
    if (it < schedule_.until) field.density.accumulate(out, grads[f], cam.width, cam.height);
    if (binocular) {
      lap(f, "binocular");
      OutputGradients sg;
      sg.color = &shifted_grad;
      GaussianGradients& g = scratch_grads_[f];
      raster.backward(shifted, params, ro, shifted_out, sg, g);
      add_gradients(grads[f], g, ro.sh_degree);
    }
    if (f == 0) psnr0 = float(std::min(99.0, psnr(color, gt)));
    if (pair && f == 0) lap(f, "waiting for the second field");
  });
  for (size_t f = 0; f < nf; ++f)
    if (!std::isfinite(loss_value[f]))
      return roll_back(it, "non-finite loss (" + std::to_string(loss_value[f]) + ")", "all");
  const double loss0 = loss_value[0] * (target ? pseudo_target_options_.loss_weight : 1.0f);
  std::vector<float> code_grad = field_code_grad[0];
  for (size_t f = 1; f < nf; ++f)
    for (size_t k = 0; k < code_grad.size(); ++k) code_grad[k] += field_code_grad[f][k];

  // A pseudo view between the train cameras: co-regularization of the two fields and depth
  // smoothness where no photo exists (guided by the render's own edges).
  const bool pseudo_terms = sv.co_training || smooths_depth(sv);
  // With an interval, the pseudo pass falls between the binocular ones ((it + 1) % N), so
  // steps stay even in cost.
  if (!pseudo_cameras_.empty() && pseudo_terms && (it + 1) % sv.pseudo_every == 0 &&
      double(it) >= double(sv.pseudo_from) * double(options_.iterations)) {
    clock_.lap("pseudo views");
    stats.pseudo_view = true;
    const Camera& pc = pseudo_cameras_[size_t(rng_.index(int(pseudo_cameras_.size())))];
    std::vector<RenderOutput> outs(nf);
    for_fields([&](size_t f) { outs[f] = rasterizer_of(f).forward(pc, params_of(fields_[f].model), ro); });
    for_fields([&](size_t f) {
      OutputGradients og;
      Image color_grad;
      if (sv.co_training && nf == 2) {
        // L1 + D-SSIM is symmetric in its arguments, so each field's gradient is the loss
        // taken with that field's render first.
        PhotometricLoss d = photometric_loss(outs[f].color, outs[1 - f].color, options_.lambda_dssim);
        scale_image(d.grad, sv.co_regularization * float(sv.pseudo_every));
        color_grad = std::move(d.grad);
        og.color = &color_grad;
      }
      Image depth_grad;
      if (smooths_depth(sv)) {
        depth_grad = depth_smoothness_gradient(outs[f], outs[f].color, sv);
        if (sv.pseudo_every > 1) scale_image(depth_grad, float(sv.pseudo_every));
        og.depth = &depth_grad;
      }
      GaussianGradients& g = scratch_grads_[f];
      rasterizer_of(f).backward(pc, params_of(fields_[f].model), ro, outs[f], og, g);
      add_gradients(grads[f], g, ro.sh_degree);
    });
  }

  clock_.lap("adam");
  for (size_t f = 0; f < nf; ++f) add_gaussian_regularizers(fields_[f], grads[f]);
  if (it == options_.test_poison_iteration && poisoned_ < options_.test_poison_times &&
      options_.test_poison_group != "appearance") {
    ++poisoned_;
    if (std::vector<float>* g = gradient_group(grads[0], options_.test_poison_group); g && !g->empty())
      (*g)[g->size() / 2] = std::numeric_limits<float>::quiet_NaN();
  }
  // Poison values: Adam reports a non-finite result (a NaN or infinite gradient makes the
  // moments and the parameter non-finite too), at no extra pass over memory; the screen
  // gradients feed only the densification statistics. The fields update side by side.
  std::vector<const char*> bad_group(nf, nullptr);
  for_fields([&](size_t f) {
    GaussianModel& model = fields_[f].model;
    const char* group = optimizer_.step(model, grads[f], fields_[f].adam, lr, active_sh_degree_);
    if (!group && !all_finite(grads[f].means2d)) group = "means";
    bad_group[f] = group;
    if (group) return;  // rolled back below
    if (sv.max_angular_scale > 0)
      clamp_angular_scales(model.means.data(), model.log_scales.data(), model.size(), train_centers_,
                           sv.max_angular_scale);
    if (sv.opacity_decay > 0 && it > schedule_.from) DensityController::decay_opacity(model, sv.opacity_decay);
  });
  for (size_t f = 0; f < nf; ++f)
    if (const char* group = bad_group[f]) {
      const char* in_grads = non_finite_group(grads[f]);  // which it was, for the message
      return roll_back(it, in_grads ? "non-finite gradient" : "non-finite parameter", in_grads ? in_grads : group);
    }
  if (slot >= 0) {
    if (it == options_.test_poison_iteration && options_.test_poison_group == "appearance" && poisoned_ < options_.test_poison_times) {
      ++poisoned_;
      code_grad[0] = std::numeric_limits<float>::quiet_NaN();
    }
    if (!appearance_adam_.step(appearance_, size_t(slot), code_grad.data(),
                               options_.appearance.lr * appearance_lr_factor_))
      return roll_back(it, "non-finite gradient", "appearance");
    project_mean_identity(appearance_);
  }

  clock_.lap("densify");
  if (it < schedule_.until) {
    if (it > schedule_.from && it % schedule_.interval == 0) {
      const bool prune_screen = it > schedule_.opacity_reset_interval;
      for (size_t f = 0; f < nf; ++f) {
        Field& field = fields_[f];
        DensityController::Counts c = field.density.densify_and_prune(
            field.model, field.adam, extent_, prune_screen, f == 0 ? rng_ : field.rng, options_.densify);
        if (sv.min_views_seen > 0 || sv.start_box_margin > 0) c.pruned += prune_outside(field);
        if (f == 0) stats.densified = c;
      }
      // Densification rounds so far (this one included), for the every-N-rounds operations.
      const long round = (it - schedule_.from - 1) / schedule_.interval + 1;
      const bool budget_left = options_.densify.max_gaussians == 0 ||
                               fields_[0].model.size() < options_.densify.max_gaussians;
      if (sv.unpooling && round % sv.unpool_rounds == 0 && budget_left)
        for (size_t f = 0; f < nf; ++f) {
          UnpoolingOptions u = sv.unpool;
          if (options_.densify.max_gaussians > 0)
            u.max_new = std::min(u.max_new, options_.densify.max_gaussians -
                                                std::min(options_.densify.max_gaussians, fields_[f].model.size()));
          const size_t added = unpool(fields_[f].model, fields_[f].adam, u);
          fields_[f].density.resize(fields_[f].model.size());
          if (f == 0) stats.unpooled = added;
        }
      if (nf == 2 && round % sv.co_prune_rounds == 0) {
        // Both masks from the fields before either is pruned (CoR-GS prunes symmetrically).
        std::vector<std::vector<bool>> keep(2);
        for (size_t f = 0; f < 2; ++f) {
          const float tau = sv.co_prune_factor * median_neighbour_distance(fields_[f].model);
          keep[f] = co_pruning_keep(fields_[f].model, fields_[1 - f].model, tau);
        }
        for (size_t f = 0; f < 2; ++f) {
          Field& field = fields_[f];
          const size_t before = field.model.size();
          field.model.filter(keep[f]);
          field.adam.m.filter(keep[f]);
          field.adam.v.filter(keep[f]);
          field.density.resize(field.model.size());
          if (f == 0) stats.co_pruned = before - field.model.size();
        }
      }
    }
    if (it % schedule_.opacity_reset_interval == 0 && !(sv.opacity_decay > 0))
      for (Field& field : fields_) DensityController::reset_opacity(field.model, field.adam);
  }

  iteration_ = it;
  loss_ema_ = it == 1 ? float(loss0) : 0.4f * float(loss0) + 0.6f * loss_ema_;
  early_stop_.add(it, schedule_.until, double(loss0));
  stats.iteration = it;
  stats.loss = float(loss0);
  stats.loss_ema = loss_ema_;
  stats.psnr = psnr0;
  stats.gaussians = fields_[0].model.size();

  if (options_.checkpoint_interval > 0 && it % options_.checkpoint_interval == 0 && !options_.checkpoint_dir.empty()) {
    clock_.lap("checkpoints");
    std::filesystem::create_directories(options_.checkpoint_dir);
    char name[64];
    std::snprintf(name, sizeof name, "ckpt_%06ld.bin", it);
    const std::filesystem::path dir(options_.checkpoint_dir), file = dir / name;
    save_checkpoint(file.string());
    // last.bin is what --resume auto continues from: a hard link to the new file renamed
    // over it (atomic as every output; no second copy written).
    const std::filesystem::path tmp = dir / ("last.bin.tmp-" + std::to_string(::getpid()));
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_hard_link(file, tmp, ec);
    if (!ec) std::filesystem::rename(tmp, dir / "last.bin", ec);
    if (ec) {
      std::filesystem::remove(tmp, ec);
      save_checkpoint((dir / "last.bin").string());  // a file system without hard links
    }
  }
  clock_.stop();
  return stats;
}

void Trainer::take_snapshot() {
  snapshot_.fields = fields_;  // copy-assignment reuses the buffers of the previous snapshot
  snapshot_.rng = rng_;
  snapshot_.view_stack = view_stack_;
  snapshot_.iteration = iteration_;
  snapshot_.active_sh_degree = active_sh_degree_;
  snapshot_.loss_ema = loss_ema_;
  snapshot_.early_stop = early_stop_;
  snapshot_.appearance = appearance_;
  snapshot_.appearance_adam = appearance_adam_;
  rollbacks_ = 0;
}

StepStats Trainer::roll_back(long it, const std::string& what, const std::string& group) {
  clock_.stop();
  const std::string where = what + (group == "all" ? std::string() : " of " + group) + " at iteration " +
                            std::to_string(it);
  if (snapshot_.iteration < 0) throw_internal("training diverged: " + where + " (rollbacks are off)");
  if (rollbacks_ >= options_.max_rollbacks)
    throw_internal("training diverged: " + where + " again after " + std::to_string(rollbacks_) +
                   " rollbacks to iteration " + std::to_string(snapshot_.iteration) +
                   ", each halving the learning rate");
  ++rollbacks_;
  std::vector<float*> factors;
  if (group == "means" || group == "all") factors.push_back(&lr_factor_.means);
  if (group == "sh" || group == "all") factors.insert(factors.end(), {&lr_factor_.sh_dc, &lr_factor_.sh_rest});
  if (group == "opacities" || group == "all") factors.push_back(&lr_factor_.opacities);
  if (group == "scales" || group == "all") factors.push_back(&lr_factor_.log_scales);
  if (group == "rotations" || group == "all") factors.push_back(&lr_factor_.rotations);
  if (group == "extras" || group == "all") factors.push_back(&lr_factor_.extras);
  if (group == "appearance" || (group == "all" && options_.appearance.enabled)) factors.push_back(&appearance_lr_factor_);
  for (float* f : factors) *f *= 0.5f;
  fields_ = snapshot_.fields;
  rng_ = snapshot_.rng;
  view_stack_ = snapshot_.view_stack;
  iteration_ = snapshot_.iteration;
  active_sh_degree_ = snapshot_.active_sh_degree;
  loss_ema_ = snapshot_.loss_ema;
  early_stop_ = snapshot_.early_stop;
  appearance_ = snapshot_.appearance;
  appearance_adam_ = snapshot_.appearance_adam;
  char line[320];
  std::snprintf(line, sizeof line,
                "%s: rolled back to iteration %ld, learning rate of %s x%g (rollback %d of at most %d)",
                where.c_str(), iteration_, group == "all" ? "every group" : group.c_str(),
                double(factors.empty() ? 1.0f : *factors[0]), rollbacks_, options_.max_rollbacks);
  log_warn(line);
  StepStats stats;
  stats.iteration = iteration_;
  stats.loss_ema = loss_ema_;
  stats.gaussians = fields_[0].model.size();
  stats.rolled_back = true;
  return stats;
}

// ---- checkpoints (the file layout: engine/train/checkpoint_file.h) ------------------
namespace {
void put_floats(std::ostream& out, const std::string& name, const std::vector<float>& v) {
  write_checkpoint_record(out, name, v.data(), v.size() * sizeof(float));
}

void put_model(std::ostream& out, const std::string& prefix, const GaussianModel& m) {
  put_floats(out, prefix + "means", m.means);
  put_floats(out, prefix + "log_scales", m.log_scales);
  put_floats(out, prefix + "rotations", m.rotations);
  put_floats(out, prefix + "opacities", m.opacities);
  put_floats(out, prefix + "sh", m.sh);
  put_floats(out, prefix + "extras", m.extras);
}
}  // namespace

namespace {
// The pseudo-view and binocular intervals and the pseudo size, only where they differ from
// the original every-iteration, half-size passes, so older checkpoints keep matching.
std::string regularizer_intervals(const SparseViewOptions& sv) {
  std::string s;
  if (sv.binocular_every != 1) s += " binocular every " + std::to_string(sv.binocular_every);
  if (sv.pseudo_every != 1) s += " pseudo every " + std::to_string(sv.pseudo_every);
  if (sv.pseudo_resolution != 0.5f) {
    char b[32];
    std::snprintf(b, sizeof b, " pseudo size %.9g", double(sv.pseudo_resolution));
    s += b;
  }
  return s;
}
}  // namespace

Fingerprint checkpoint_fingerprint(const Dataset& data, const TrainOptions& o) {
  if (data.train_ids.empty()) return {};
  std::string ids;
  for (int id : data.train_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const Camera& c = data.cameras[size_t(data.train_ids[0])];
  const SparseViewOptions& sv = o.sparse;
  const auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.9g", v);
    return std::string(b);
  };
  Fingerprint fp = {
      {"train_ids", ids},
      {"image_size", std::to_string(c.width) + "x" + std::to_string(c.height)},
      {"iterations", std::to_string(o.iterations)},
      {"seed", std::to_string(o.seed)},
      {"sh_degree", std::to_string(o.sh_degree)},
      // The schedule as given (-1 = scaled to the run), so extending a run is not refused here.
      {"densify", std::to_string(o.densify_from) + ".." + std::to_string(o.densify_until) + "/" +
                      std::to_string(o.densify_interval) + " reset " + std::to_string(o.opacity_reset_interval) +
                      " threshold " +
                      num(o.densify.grad_threshold) + " budget " + std::to_string(o.densify.max_gaussians)},
      {"background", o.random_background ? std::string("random")
                                                : num(o.background.x) + "," + num(o.background.y) + "," +
                                                      num(o.background.z)},
      {"regularizers", std::string("co-training ") + (sv.co_training ? "on" : "off") + " pseudo " +
                           std::to_string(sv.pseudo_views) + " binocular " + num(sv.binocular) + " opacity decay " +
                           num(sv.opacity_decay) + " backdrop " + num(sv.backdrop_alpha) + " min views " +
                           std::to_string(sv.min_views_seen) + " unpooling " + (sv.unpooling ? "on" : "off") +
                           " depth " + num(sv.depth_smoothness) + "/" + num(sv.depth_prior) + regularizer_intervals(sv)},
      {"in_the_wild",
       std::string("appearance ") + (o.appearance.enabled ? "on lr " + num(o.appearance.lr) : std::string("off")) +
           " robust " +
           (o.robust.enabled ? "on quantile " + num(o.robust.inlier_quantile) + " patch " +
                                   std::to_string(o.robust.patch) + "/" + num(o.robust.patch_inlier_share) + " from " +
                                   num(o.robust.from)
                             : std::string("off"))},
  };
  // Only when on: checkpoints of runs without it keep matching.
  if (o.early_stop.enabled)
    fp.emplace_back("early_stop", "window " + std::to_string(o.early_stop.window) + " tolerance " +
                                      num(o.early_stop.tolerance) + " patience " + std::to_string(o.early_stop.patience));
  return fp;
}

void check_fingerprint(const std::string& path, const Fingerprint& stored, const Fingerprint& current,
                       TargetChange target) {
  for (const auto& [key, value] : current) {
    const std::string& name = key;  // clang 14 does not capture structured bindings
    const auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& kv) { return kv.first == name; });
    if (it == stored.end() || it->second == value) continue;  // older checkpoints have no fingerprint
    if (key == "iterations") {
      if (target == TargetChange::Allow) continue;
      if (target == TargetChange::Warn) {
        log_warn(path + ": made for a run of " + it->second + " iterations, continuing toward " + value +
                 " (the schedules change: not what an uninterrupted " + value + "-iteration run gives)");
        continue;
      }
      throw_bad_input(path, "checkpoint of a " + it->second + "-iteration run, this one asks for " + value +
                                " (--resume auto continues only the same run; --resume PATH extends one)");
    }
    throw_bad_input(path, "checkpoint of another run: its " + key + " is '" + it->second + "', this run's is '" +
                              value + "' (resuming needs the same dataset and options)");
  }
}

void Trainer::save_checkpoint(const std::string& path) const {
  const Field& f0 = fields_[0];
  // A checkpoint with poison in it would only carry the failure into the next run.
  for (size_t f = 0; f < fields_.size(); ++f)
    if (const char* group = non_finite_group(fields_[f].model))
      throw_internal("save_checkpoint(" + path + "): " + group + " of field " + std::to_string(f) + " not finite");
  std::ostringstream meta;
  meta << "iteration=" << iteration_ << "\nactive_sh_degree=" << active_sh_degree_ << "\nsh_degree=" << f0.model.sh_degree
       << "\nextra_channels=" << f0.model.extra_channels << "\ngaussians=" << f0.model.size()
       << "\nadam_step=" << f0.adam.step << "\nloss_ema_bits=";
  uint32_t ema_bits;
  std::memcpy(&ema_bits, &loss_ema_, 4);
  meta << ema_bits << "\nviews=" << dataset_.size() << "\nfields=" << fields_.size() << "\n";
  if (options_.appearance.enabled) {
    uint32_t factor_bits;
    std::memcpy(&factor_bits, &appearance_lr_factor_, 4);
    meta << "appearance_codes=" << appearance_.size() << "\nappearance_lr_factor_bits=" << factor_bits << "\n";
  }
  for (const auto& [key, value] : fingerprint_) meta << "fp." << key << "=" << value << "\n";
  if (fields_.size() > 1)
    meta << "field1.gaussians=" << fields_[1].model.size() << "\nfield1.adam_step=" << fields_[1].adam.step << "\n";
  std::ostringstream rng_state;
  rng_state << rng_.engine();
  const std::string meta_s = meta.str(), rng_s = rng_state.str();
  std::vector<int> stack = view_stack_;
  write_file_atomic(path, [&](std::ostream& out) {
    write_checkpoint_magic(out);
    write_checkpoint_record(out, "meta", meta_s.data(), meta_s.size());
    write_checkpoint_record(out, "rng", rng_s.data(), rng_s.size());
    write_checkpoint_record(out, "view_stack", stack.data(), stack.size() * sizeof(int));
    write_checkpoint_record(out, "lr_factor", &lr_factor_, sizeof lr_factor_);
    if (options_.early_stop.enabled) {
      const std::vector<double> es = early_stop_.state();
      write_checkpoint_record(out, "early_stop", es.data(), es.size() * sizeof(double));
    }
    if (options_.appearance.enabled) {
      put_floats(out, "appearance.codes", appearance_.values);
      put_floats(out, "appearance.adam_m", appearance_adam_.m);
      put_floats(out, "appearance.adam_v", appearance_adam_.v);
      write_checkpoint_record(out, "appearance.steps", appearance_adam_.steps.data(),
                              appearance_adam_.steps.size() * sizeof(long));
    }
    // Field 0 keeps the single-field record names; a co-trained partner adds "field1.*".
    for (size_t f = 0; f < fields_.size(); ++f) {
      const Field& field = fields_[f];
      const std::string p = f == 0 ? "" : "field" + std::to_string(f) + ".";
      put_model(out, p + "model.", field.model);
      put_model(out, p + "adam_m.", field.adam.m);
      put_model(out, p + "adam_v.", field.adam.v);
      put_floats(out, p + "density.grad_accum", field.density.grad_accum);
      put_floats(out, p + "density.visible_count", field.density.visible_count);
      put_floats(out, p + "density.max_radius", field.density.max_radius);
      if (f > 0) {
        std::ostringstream frng;
        frng << field.rng.engine();
        const std::string frng_s = frng.str();
        write_checkpoint_record(out, p + "rng", frng_s.data(), frng_s.size());
      }
    }
  }, /*durable=*/true);
}

void Trainer::load_checkpoint(const std::string& path) {
  Checkpoint c = decode_checkpoint(read_file(path), path);
  if (size_t(c.views) != dataset_.size())
    throw_bad_input(path, "checkpoint was made on a dataset of " + std::to_string(c.views) + " views, this one has " +
                              std::to_string(dataset_.size()));
  if (c.fields.size() != fields_.size())
    throw_bad_input(path, "checkpoint holds " + std::to_string(c.fields.size()) + " field(s), this run trains " +
                              std::to_string(fields_.size()) + " (co-training on/off must match)");
  // The same dataset and options, or the continuation is not the run it claims to be.
  check_fingerprint(path, c.fingerprint, fingerprint_, TargetChange::Warn);
  std::vector<Field> fields(fields_.size());
  for (size_t f = 0; f < fields.size(); ++f) {
    CheckpointField& in = c.fields[f];
    Field& field = fields[f];
    field.model = std::move(in.model);
    field.adam = std::move(in.adam);
    field.density.grad_accum = std::move(in.grad_accum);
    field.density.visible_count = std::move(in.visible_count);
    field.density.max_radius = std::move(in.max_radius);
    field.rng.engine() = f == 0 ? fields_[0].rng.engine() : in.rng;  // field 0's is unused (it splits with rng_)
  }
  CheckpointAppearance& a = c.appearance;
  if (options_.appearance.enabled) {
    if (!a.present)
      throw_bad_input(path, "checkpoint has no appearance codes (made without --appearance; this run trains them)");
    if (a.codes != appearance_.size())
      throw_bad_input(path, "checkpoint holds appearance codes for another number of train views");
  } else if (a.present) {
    throw_bad_input(path, "checkpoint trains appearance codes, this run does not (--appearance must match)");
  }
  fields_ = std::move(fields);
  view_stack_ = std::move(c.view_stack);
  rng_.engine() = c.rng;
  iteration_ = c.iteration;
  active_sh_degree_ = c.active_sh_degree;
  std::memcpy(&loss_ema_, &c.loss_ema_bits, 4);
  // A checkpoint of a run without early stop starts counting windows where it resumes.
  early_stop_ = EarlyStop(options_.early_stop);
  if (options_.early_stop.enabled && !c.early_stop.empty()) early_stop_.restore(c.early_stop);
  lr_factor_ = c.lr_factor;
  if (a.present) {
    appearance_.values = std::move(a.values);
    appearance_adam_.m = std::move(a.adam_m);
    appearance_adam_.v = std::move(a.adam_v);
    appearance_adam_.steps = std::move(a.steps);
    std::memcpy(&appearance_lr_factor_, &a.lr_factor_bits, 4);
  }
  snapshot_.iteration = -1;  // the next step copies the loaded state
  rollbacks_ = 0;
}

}  // namespace sp
