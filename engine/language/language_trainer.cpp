#include "engine/language/language_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>

#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/language/language_loss.h"

namespace sp {

LanguageField initialize_language_field(size_t gaussians, const std::vector<LanguageView>& views,
                                        const LanguageTrainOptions& o) {
  if (views.empty()) throw_bad_input("language training", "no views with language features");
  LanguageField f;
  f.levels = 3;
  f.codes = o.codes;
  f.top_k = o.top_k;
  f.dims = views.front().targets.dims;
  for (const auto& v : views)
    if (v.targets.dims != f.dims)
      throw_bad_input(v.camera.name, "feature dimension " + std::to_string(v.targets.dims) + " differs from " +
                                         std::to_string(f.dims) + " of the first view");
  f.dictionary.resize(size_t(f.levels) * f.codes * f.dims);
  for (int l = 0; l < f.levels; ++l) {
    std::vector<float> pts;
    for (const auto& v : views) {
      std::vector<bool> used(v.targets.rows(), false);
      for (int s : v.targets.segments[size_t(l)])
        if (s >= 0) used[size_t(s)] = true;
      for (size_t r = 0; r < used.size(); ++r)
        if (used[r]) pts.insert(pts.end(), v.targets.features.begin() + r * f.dims, v.targets.features.begin() + (r + 1) * f.dims);
    }
    std::vector<float> centres;
    if (pts.empty()) {  // level never supervised: random unit codes
      Rng rng(o.seed + 101 * uint64_t(l));
      centres.resize(size_t(f.codes) * f.dims);
      for (auto& c : centres) c = rng.normal();
      pts = centres;
      centres = kmeans_unit_centres(pts.data(), size_t(f.codes), f.dims, f.codes, o.seed, 0);
    } else {
      centres = kmeans_unit_centres(pts.data(), pts.size() / size_t(f.dims), f.dims, f.codes, o.seed + uint64_t(l),
                                    o.kmeans_iterations);
    }
    std::copy(centres.begin(), centres.end(), f.dictionary.begin() + size_t(l) * f.codes * f.dims);
  }
  Rng rng(o.seed ^ 0x6c616e67ULL);
  f.logits.resize(gaussians * size_t(f.levels) * f.codes);
  for (auto& z : f.logits) z = rng.normal(0.0f, o.logit_init_std);
  f.validate("language field");
  return f;
}

LanguageTrainer::LanguageTrainer(const GaussianModel& model, std::vector<LanguageView> views, LanguageField initial,
                                 const LanguageTrainOptions& options, Rasterizer& rasterizer)
    : model_(model), views_(std::move(views)), field_(std::move(initial)), options_(options), rasterizer_(rasterizer) {
  if (views_.empty()) throw_bad_input("language training", "no views with language features");
  if (field_.size() != model_.size()) throw_internal("LanguageTrainer: field and model sizes differ");
  for (const auto& v : views_)
    if (v.targets.width != v.camera.width || v.targets.height != v.camera.height)
      throw_internal("LanguageTrainer: targets not at the camera's size");
  m_logits_.assign(field_.logits.size(), 0.0f);
  v_logits_ = m_logits_;
  m_dict_.assign(field_.dictionary.size(), 0.0f);
  v_dict_ = m_dict_;
  order_.resize(views_.size());
  std::iota(order_.begin(), order_.end(), 0);
  shuffle_state_ = options.seed;
  next_ = order_.size();
}

float LanguageTrainer::loss_and_gradients(int view, std::vector<float>* grad_logits, std::vector<float>* grad_dict) {
  const LanguageView& v = views_[size_t(view)];
  const int L = field_.codes, levels = field_.levels, E = levels * L;
  const std::vector<float> dense = dense_codes(field_);
  GaussianParams params = params_of(model_);
  params.extra_channels = E;
  params.extras = dense.data();
  RenderOptions ro;
  ro.sh_degree = model_.sh_degree;
  const RenderOutput out = rasterizer_.forward(v.camera, params, ro);
  const bool grads = grad_logits || grad_dict;
  // Reused between iterations (every value is overwritten by language_loss): a fresh
  // megabyte-sized buffer per step costs more in page faults than the loss itself.
  Image& grad_image = grad_image_;
  if (grads && (grad_image.width != out.extras.width || grad_image.height != out.extras.height || grad_image.channels != E))
    grad_image = Image(out.extras.width, out.extras.height, E);
  if (grad_dict) grad_dict->assign(field_.dictionary.size(), 0.0f);
  std::vector<float> level_grad(grad_dict ? size_t(L) * field_.dims : 0);
  float loss = 0;
  for (int l = 0; l < levels; ++l) {
    LanguageLossInput<float> in;
    in.codes = out.extras.pixels.data() + size_t(l) * L;
    in.stride = size_t(E);
    in.segments = v.targets.segments[size_t(l)].data();
    in.pixels = out.extras.pixel_count();
    in.dictionary = field_.level_dictionary(l);
    in.features = v.targets.features.data();
    in.rows = v.targets.rows();
    in.codes_count = L;
    in.dims = field_.dims;
    loss += language_loss(in, grads ? grad_image.pixels.data() + size_t(l) * L : nullptr,
                          grad_dict ? level_grad.data() : nullptr);
    if (grad_dict) std::copy(level_grad.begin(), level_grad.end(), grad_dict->begin() + size_t(l) * L * field_.dims);
  }
  if (grad_logits) {
    OutputGradients og;
    og.extras = &grad_image;
    GaussianGradients gg;
    rasterizer_.backward(v.camera, params, ro, out, og, gg);
    grad_logits->assign(field_.logits.size(), 0.0f);
    const size_t groups = field_.size() * size_t(levels);
#pragma omp parallel for schedule(static) num_threads(thread_count())
    for (long long g = 0; g < (long long)groups; ++g)
      sparse_code_backward(field_.logits.data() + size_t(g) * L, L, field_.top_k, gg.extras.data() + size_t(g) * L,
                           grad_logits->data() + size_t(g) * L);
  }
  return loss;
}

namespace {
void adam_update(std::vector<float>& x, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v,
                 float lr, long t) {
  constexpr float b1 = 0.9f, b2 = 0.999f, eps = 1e-15f;
  const float c1 = 1.0f - std::pow(b1, float(t)), c2 = 1.0f - std::pow(b2, float(t));
  for (size_t i = 0; i < x.size(); ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    x[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
  }
}
}  // namespace

float LanguageTrainer::step() {
  if (next_ >= order_.size()) {  // a new random order of the views per epoch
    std::mt19937_64 rng(shuffle_state_++);
    std::shuffle(order_.begin(), order_.end(), rng);
    next_ = 0;
  }
  const int view = order_[next_++];
  std::vector<float> gl, gd;
  const float loss = loss_and_gradients(view, &gl, &gd);
  ++iteration_;
  loss_ema_ = loss_ema_ < 0 ? loss : 0.95f * loss_ema_ + 0.05f * loss;
  adam_update(field_.logits, gl, m_logits_, v_logits_, options_.lr_logits, iteration_);
  adam_update(field_.dictionary, gd, m_dict_, v_dict_, options_.lr_dictionary, iteration_);
  return loss;
}

LanguageCheckpoint LanguageTrainer::checkpoint() const {
  LanguageCheckpoint c;
  c.iteration = iteration_;
  c.field = field_;
  c.m_logits = m_logits_;
  c.v_logits = v_logits_;
  c.m_dict = m_dict_;
  c.v_dict = v_dict_;
  c.order = order_;
  c.next = next_;
  c.shuffle_state = shuffle_state_;
  std::memcpy(&c.loss_ema_bits, &loss_ema_, sizeof loss_ema_);
  return c;
}

void LanguageTrainer::restore(LanguageCheckpoint c, const std::string& where) {
  const LanguageField& f = c.field;
  if (f.levels != field_.levels || f.codes != field_.codes || f.dims != field_.dims || f.top_k != field_.top_k ||
      f.logits.size() != field_.logits.size())
    throw_bad_input(where, "language checkpoint of another field shape or model size");
  if (c.order.size() != views_.size()) throw_bad_input(where, "language checkpoint of another number of views");
  field_ = std::move(c.field);
  m_logits_ = std::move(c.m_logits);
  v_logits_ = std::move(c.v_logits);
  m_dict_ = std::move(c.m_dict);
  v_dict_ = std::move(c.v_dict);
  order_ = std::move(c.order);
  next_ = size_t(c.next);
  shuffle_state_ = c.shuffle_state;
  iteration_ = c.iteration;
  std::memcpy(&loss_ema_, &c.loss_ema_bits, sizeof loss_ema_);
}

Fingerprint language_fingerprint(const GaussianModel& model, const std::vector<LanguageView>& views,
                                 const LanguageTrainOptions& o) {
  uint64_t geometry = 0;
  for (const std::vector<float>* v : {&model.means, &model.log_scales, &model.rotations, &model.opacities, &model.sh})
    geometry = fnv1a(geometry, *v);
  uint64_t targets = 0;
  std::string names;
  for (const LanguageView& v : views) {
    targets = fnv1a(targets, v.targets.features);
    for (const auto& level : v.targets.segments) targets = fnv1a(targets, level);
    names += (names.empty() ? "" : ",") + v.camera.name + ":" + std::to_string(v.camera.width) + "x" +
             std::to_string(v.camera.height);
  }
  const auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.9g", v);
    return std::string(b);
  };
  return {{"model", std::to_string(model.size()) + " Gaussians, sh " + std::to_string(model.sh_degree) + ", fnv1a " +
                        std::to_string(geometry)},
          {"features", "fnv1a " + std::to_string(targets)},
          {"views", names},
          {"iterations", std::to_string(o.iterations)},
          {"field", std::to_string(o.codes) + " codes, top " + std::to_string(o.top_k) + ", init std " +
                        num(o.logit_init_std) + ", k-means " + std::to_string(o.kmeans_iterations)},
          {"learning_rates", num(o.lr_logits) + "," + num(o.lr_dictionary)},
          {"seed", std::to_string(o.seed)}};
}

void LanguageTrainer::run(const std::function<void(long, float)>& on_step) {
  while (iteration_ < options_.iterations) {
    const float loss = step();
    if (on_step) on_step(iteration_, loss);
  }
}

}  // namespace sp
