// The libtorch side of engine/prior: the compact UNet, its checkpoints and training step,
// and the TorchScript backend. The only translation unit that includes torch (it takes
// ~20 s to compile); everything else sees the plain interfaces in engine/prior/*.h.
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/parallel.h"
#include "engine/prior/denoiser.h"
#include "engine/prior/prior_training.h"
#include "engine/prior/unet.h"

namespace sp::prior {

namespace {

namespace nn = torch::nn;

// Residual block: GroupNorm -> SiLU -> conv, plus the noise embedding as a per-channel
// shift, -> GroupNorm -> SiLU -> conv; 1x1 projection on the skip when channels change.
struct ResBlockImpl : nn::Module {
  ResBlockImpl(int in, int out, int emb_dim)
      : norm1(nn::GroupNormOptions(std::min(8, in), in)),
        conv1(nn::Conv2dOptions(in, out, 3).padding(1)),
        emb(emb_dim, out),
        norm2(nn::GroupNormOptions(std::min(8, out), out)),
        conv2(nn::Conv2dOptions(out, out, 3).padding(1)) {
    register_module("norm1", norm1);
    register_module("conv1", conv1);
    register_module("emb", emb);
    register_module("norm2", norm2);
    register_module("conv2", conv2);
    if (in != out) skip = register_module("skip", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& e) {
    auto h = conv1(torch::silu(norm1(x)));
    h = h + emb(e).unsqueeze(-1).unsqueeze(-1);
    h = conv2(torch::silu(norm2(h)));
    return h + (skip ? skip(x) : x);
  }
  nn::GroupNorm norm1;
  nn::Conv2d conv1;
  nn::Linear emb;
  nn::GroupNorm norm2;
  nn::Conv2d conv2;
  nn::Conv2d skip{nullptr};
};
TORCH_MODULE(ResBlock);

constexpr int kEmbeddingFrequencies = 16;

struct UNetImpl : nn::Module {
  explicit UNetImpl(const UNetConfig& c) : levels(c.levels) {
    const int emb_dim = 4 * c.base_channels;
    emb1 = register_module("emb1", nn::Linear(2 * kEmbeddingFrequencies, emb_dim));
    emb2 = register_module("emb2", nn::Linear(emb_dim, emb_dim));
    head = register_module("head", nn::Conv2d(nn::Conv2dOptions(6, c.base_channels, 3).padding(1)));
    std::vector<int> ch;
    for (int l = 0; l < levels; ++l) ch.push_back(c.base_channels * (1 << std::min(l, 2)));
    int cur = c.base_channels;
    for (int l = 0; l < levels; ++l) {
      down.push_back(register_module("down" + std::to_string(l), ResBlock(cur, ch[size_t(l)], emb_dim)));
      cur = ch[size_t(l)];
    }
    mid = register_module("mid", ResBlock(cur, cur, emb_dim));
    for (int l = levels - 1; l >= 0; --l) {
      up.push_back(register_module("up" + std::to_string(l), ResBlock(cur + ch[size_t(l)], ch[size_t(l)], emb_dim)));
      cur = ch[size_t(l)];
    }
    out_norm = register_module("out_norm", nn::GroupNorm(nn::GroupNormOptions(std::min(8, cur), cur)));
    out_conv = register_module("out_conv", nn::Conv2d(nn::Conv2dOptions(cur, 3, 3).padding(1)));
    // Start as the identity baseline (F = 0): training only has to learn corrections.
    torch::NoGradGuard no_grad;
    out_conv->weight.zero_();
    out_conv->bias.zero_();
  }

  // x_t, reference: [B,3,H,W] (H, W multiples of 2^(levels-1)); alpha_bar: [B].
  torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& alpha_bar, const torch::Tensor& reference) {
    const auto ab = alpha_bar.clamp(1e-4, 1.0 - 1e-6);
    const auto log_snr = torch::log(ab / (1 - ab));  // about [-9, 14]
    const auto freqs = torch::exp(torch::arange(kEmbeddingFrequencies, x_t.options()) * (std::log(100.0) / kEmbeddingFrequencies)) * 0.05;
    const auto angles = log_snr.unsqueeze(1) * freqs.unsqueeze(0);
    auto e = torch::cat({torch::sin(angles), torch::cos(angles)}, 1);
    e = emb2(torch::silu(emb1(e)));
    auto h = head(torch::cat({x_t, reference}, 1));
    std::vector<torch::Tensor> skips;
    for (int l = 0; l < levels; ++l) {
      h = down[size_t(l)]->forward(h, e);
      skips.push_back(h);
      if (l + 1 < levels) h = torch::avg_pool2d(h, 2);
    }
    h = mid->forward(h, e);
    for (int k = 0; k < levels; ++k) {
      const int l = levels - 1 - k;
      if (k > 0) h = torch::upsample_nearest2d(h, std::vector<int64_t>{h.size(2) * 2, h.size(3) * 2});
      h = up[size_t(k)]->forward(torch::cat({h, skips[size_t(l)]}, 1), e);
    }
    const auto correction = out_conv(torch::silu(out_norm(h)));
    return torch::sqrt(ab).view({-1, 1, 1, 1}) * x_t + correction;
  }

  int levels;
  nn::Linear emb1{nullptr}, emb2{nullptr};
  nn::Conv2d head{nullptr};
  std::vector<ResBlock> down, up;
  ResBlock mid{nullptr};
  nn::GroupNorm out_norm{nullptr};
  nn::Conv2d out_conv{nullptr};
};
TORCH_MODULE(UNet);

// HWC Image -> [1, C, H, W] tensor (a copy).
torch::Tensor to_tensor(const Image& image) {
  auto t = torch::from_blob(const_cast<float*>(image.pixels.data()), {image.height, image.width, image.channels},
                            torch::kFloat32);
  return t.permute({2, 0, 1}).unsqueeze(0).contiguous().clone();
}

Image to_image(const torch::Tensor& chw) {
  const auto t = chw.detach().to(torch::kCPU).to(torch::kFloat32).squeeze(0).permute({1, 2, 0}).contiguous();
  Image out(int(t.size(1)), int(t.size(0)), int(t.size(2)));
  std::copy(t.data_ptr<float>(), t.data_ptr<float>() + out.pixels.size(), out.pixels.begin());
  return out;
}

// Pads [1,C,H,W] on the right/bottom (replicate) to multiples of `m`.
torch::Tensor pad_to_multiple(const torch::Tensor& x, int m) {
  const int64_t ph = (m - x.size(2) % m) % m, pw = (m - x.size(3) % m) % m;
  if (ph == 0 && pw == 0) return x;
  return torch::nn::functional::pad(
      x, torch::nn::functional::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReplicate));
}

// The first line of a torch exception (they carry C++ stack traces on the next lines).
std::string brief(const std::exception& e, size_t max_chars = 160) {
  std::string m = e.what();
  m = m.substr(0, m.find('\n'));
  return m.substr(0, max_chars);
}

void check_image(const Image& image, const char* what) {
  if (image.channels != 3 || image.empty())
    throw_bad_input(what, "needs a non-empty 3-channel image");
}

constexpr const char* kConfigKey = "sparsplat_unet_config";

torch::Tensor config_tensor(const UNetConfig& c) {
  return torch::tensor({int64_t(1), int64_t(c.base_channels), int64_t(c.levels)}, torch::kInt64);
}

UNetConfig config_from(const torch::Tensor& t, const std::string& path) {
  if (t.numel() != 3 || t[0].item<int64_t>() != 1) throw_bad_input(path, "unsupported built-in prior version");
  UNetConfig c;
  c.base_channels = int(t[1].item<int64_t>());
  c.levels = int(t[2].item<int64_t>());
  if (c.base_channels < 4 || c.base_channels > 512 || c.levels < 1 || c.levels > 6)
    throw_bad_input(path, "implausible built-in prior configuration");
  return c;
}

std::string archive_bytes(const std::function<void(torch::serialize::OutputArchive&)>& fill) {
  torch::serialize::OutputArchive archive;
  fill(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load_archive(torch::serialize::InputArchive& archive, const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw_bad_input(path, "no such model file");
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw_bad_input(path, "not a torch archive (" + brief(e, 120) + ")");
  }
}

// A user's TorchScript module: forward(x_t [1,3,H,W], alpha_bar [1], reference [1,3,H,W])
// -> x_0 [1,3,H,W], all in signal space ([-1, 1]); the reference is zeros when absent.
class TorchScriptDenoiser : public Denoiser {
 public:
  TorchScriptDenoiser(torch::jit::script::Module module, std::string path)
      : module_(std::move(module)), path_(std::move(path)) {
    module_.eval();
  }
  std::string name() const override { return "torchscript:" + path_; }
  Image predict_clean(const Image& noisy, float ab, const Image* reference) override {
    check_image(noisy, "TorchScript prior");
    torch::NoGradGuard no_grad;
    const auto x = to_tensor(noisy);
    const auto ref = reference && !reference->empty() ? to_tensor(*reference) : torch::zeros_like(x);
    torch::Tensor y;
    try {
      y = module_.forward({x, torch::tensor({ab}, torch::kFloat32), ref}).toTensor();
    } catch (const std::exception& e) {
      throw_bad_input(path_, "the TorchScript model failed (" + brief(e, 200) + ")");
    }
    if (y.dim() != 4 || y.size(0) != 1 || y.size(1) != 3 || y.size(2) != x.size(2) || y.size(3) != x.size(3))
      throw_bad_input(path_, "the TorchScript model must return a [1, 3, H, W] tensor of its input's size");
    return to_image(y);
  }

 private:
  torch::jit::script::Module module_;
  std::string path_;
};

}  // namespace

struct UNetDenoiser::Network {
  explicit Network(const UNetConfig& c) : net(c) {}
  UNet net;
};

bool torch_backends_available() { return true; }

void init_torch_threads(int n) {
  // Default: the engine's own count (sparsplat --threads), so one flag bounds both; on a shared
  // machine torch's OpenMP barriers slow down badly with more threads than free cores.
  const int engine_threads = thread_count();
  if (n <= 0) n = engine_threads;
  if (n < 1) n = 1;
  at::set_num_threads(n);
  // torch's set-up resets OpenMP's count; the engine's own loops keep theirs.
  set_thread_count(engine_threads);
}

UNetDenoiser::UNetDenoiser(const UNetConfig& config, uint64_t seed) : config_(config) {
  if (config.base_channels < 4 || config.levels < 1 || config.levels > 6)
    throw_bad_input("UNetConfig", "base_channels >= 4 and 1 <= levels <= 6");
  torch::manual_seed(seed);
  network_ = std::make_unique<Network>(config);
  network_->net->eval();
}

UNetDenoiser::~UNetDenoiser() = default;

size_t UNetDenoiser::parameter_count() const {
  size_t n = 0;
  for (const auto& p : network_->net->parameters()) n += size_t(p.numel());
  return n;
}

void UNetDenoiser::save(const std::string& path) const {
  const std::string bytes = archive_bytes([&](torch::serialize::OutputArchive& a) {
    network_->net->save(a);
    a.write(kConfigKey, config_tensor(config_));
  });
  write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

std::unique_ptr<UNetDenoiser> UNetDenoiser::load(const std::string& path) {
  torch::serialize::InputArchive archive;
  load_archive(archive, path);
  torch::Tensor config;
  if (!archive.try_read(kConfigKey, config)) throw_bad_input(path, "not a sparsplat built-in prior (no config)");
  auto net = std::make_unique<UNetDenoiser>(config_from(config, path), 0);
  try {
    // A train-prior checkpoint keeps the weights in a "model" sub-archive (next to Adam's
    // state): loading it directly lets a running training be evaluated.
    torch::serialize::InputArchive weights;
    if (archive.try_read("model", weights))
      net->network_->net->load(weights);
    else
      net->network_->net->load(archive);
  } catch (const std::exception& e) {
    throw_bad_input(path, "weights do not match the built-in UNet (" + brief(e, 120) + ")");
  }
  net->network_->net->eval();
  return net;
}

Image UNetDenoiser::predict_clean(const Image& noisy, float ab, const Image* reference) {
  check_image(noisy, "UNet prior");
  torch::NoGradGuard no_grad;
  network_->net->eval();
  const int m = 1 << (config_.levels - 1);
  auto x = to_tensor(noisy);
  auto ref = reference && !reference->empty() ? to_tensor(*reference) : torch::zeros_like(x);
  const auto h = x.size(2), w = x.size(3);
  x = pad_to_multiple(x, m);
  ref = pad_to_multiple(ref, m);
  auto y = network_->net->forward(x, torch::tensor({ab}, torch::kFloat32), ref);
  return to_image(y.slice(2, 0, h).slice(3, 0, w));
}

std::unique_ptr<Denoiser> load_denoiser(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw_bad_input(path, "no such model file");
  {
    torch::serialize::InputArchive archive;
    bool builtin = false;
    try {
      archive.load_from(path);
      torch::Tensor config;
      builtin = archive.try_read(kConfigKey, config);
    } catch (const std::exception&) {
      builtin = false;
    }
    if (builtin) return UNetDenoiser::load(path);
  }
  try {
    return std::make_unique<TorchScriptDenoiser>(torch::jit::load(path), path);
  } catch (const std::exception& e) {
    throw_bad_input(path, "neither a built-in prior nor a TorchScript module (" +
                              brief(e, 120) + ")");
  }
}

// ---- training ----

struct PriorOptimizer::State {
  explicit State(UNet& net, float lr) : adam(net->parameters(), torch::optim::AdamOptions(lr)) {}
  torch::optim::Adam adam;
};

PriorOptimizer::PriorOptimizer(UNetDenoiser& network, const PriorOptimizerOptions& options)
    : network_(network), options_(options), state_(std::make_unique<State>(network.network().net, options.learning_rate)) {}

PriorOptimizer::~PriorOptimizer() = default;

float PriorOptimizer::step(const std::vector<const TrainingSample*>& batch, Rng& rng) {
  if (batch.empty()) throw_bad_input("PriorOptimizer::step", "empty batch");
  const int m = 1 << (network_.config().levels - 1);
  int crop_w = options_.crop, crop_h = options_.crop;
  for (const TrainingSample* s : batch) {
    check_image(s->clean, "training sample");
    crop_w = std::min(crop_w, s->clean.width);
    crop_h = std::min(crop_h, s->clean.height);
  }
  crop_w = std::max(m, crop_w / m * m);
  crop_h = std::max(m, crop_h / m * m);
  std::vector<torch::Tensor> xs, refs, targets;
  std::vector<float> alphas;
  for (const TrainingSample* s : batch) {
    const int x0 = rng.index(s->clean.width - crop_w + 1), y0 = rng.index(s->clean.height - crop_h + 1);
    auto crop = [&](const Image& im) { return to_tensor(im).slice(2, y0, y0 + crop_h).slice(3, x0, x0 + crop_w) * 2 - 1; };
    const bool degraded = !s->degraded.empty();
    const auto clean = crop(s->clean);
    const auto start = degraded ? crop(s->degraded) : clean;
    const float t = degraded ? rng.uniform(0.0f, options_.degraded_t_max) : rng.uniform(0.0f, 1.0f);
    const float ab = [&] {
      // the cosine schedule (schedule.h), inlined to keep this file's dependencies small
      constexpr double s8 = 0.008, half_pi = 1.5707963267948966;
      const double c0 = std::cos(s8 / (1 + s8) * half_pi), c = std::cos((t + s8) / (1 + s8) * half_pi);
      return float(std::clamp(c * c / (c0 * c0), 1e-4, 1.0));
    }();
    auto noise = torch::empty_like(start);
    {
      auto* p = noise.data_ptr<float>();
      for (int64_t i = 0; i < noise.numel(); ++i) p[i] = rng.normal();
    }
    xs.push_back(std::sqrt(ab) * start + std::sqrt(1 - ab) * noise);
    const bool use_ref = !s->reference.empty() && rng.uniform() >= options_.reference_dropout;
    refs.push_back(use_ref ? crop(s->reference) : torch::zeros_like(clean));
    targets.push_back(clean);
    alphas.push_back(ab);
  }
  auto& net = network_.network().net;
  net->train();
  state_->adam.zero_grad();
  const auto pred = net->forward(torch::cat(xs), torch::tensor(alphas, torch::kFloat32), torch::cat(refs));
  auto loss = torch::l1_loss(pred, torch::cat(targets));
  loss.backward();
  state_->adam.step();
  net->eval();
  ++steps_;
  return loss.item<float>();
}

void PriorOptimizer::save_checkpoint(const std::string& path, const std::string& run_state) const {
  const std::string bytes = archive_bytes([&](torch::serialize::OutputArchive& a) {
    torch::serialize::OutputArchive model, adam;
    network_.network().net->save(model);
    state_->adam.save(adam);
    a.write("model", model);
    a.write("adam", adam);
    a.write(kConfigKey, config_tensor(network_.config()));
    a.write("steps", torch::tensor({int64_t(steps_)}, torch::kInt64));
    if (!run_state.empty()) {
      auto bytes = torch::empty({int64_t(run_state.size())}, torch::kUInt8);
      std::memcpy(bytes.data_ptr<uint8_t>(), run_state.data(), run_state.size());
      a.write("run_state", bytes);
    }
  });
  write_file_atomic(
      path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); }, /*durable=*/true);
}

std::string PriorOptimizer::load_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive;
  load_archive(archive, path);
  torch::Tensor config, steps;
  if (!archive.try_read(kConfigKey, config) || !archive.try_read("steps", steps))
    throw_bad_input(path, "not a train-prior checkpoint");
  const UNetConfig c = config_from(config, path);
  if (c.base_channels != network_.config().base_channels || c.levels != network_.config().levels)
    throw_bad_input(path, "checkpoint's UNet configuration differs from this run's");
  try {
    torch::serialize::InputArchive model, adam;
    archive.read("model", model);
    archive.read("adam", adam);
    network_.network().net->load(model);
    state_->adam.load(adam);
  } catch (const std::exception& e) {
    throw_bad_input(path, "unreadable checkpoint (" + brief(e, 120) + ")");
  }
  steps_ = long(steps.item<int64_t>());
  torch::Tensor run_state;
  if (!archive.try_read("run_state", run_state)) return "";
  if (run_state.scalar_type() != torch::kUInt8 || run_state.dim() != 1)
    throw_bad_input(path, "checkpoint's run state is malformed");
  run_state = run_state.contiguous();
  return std::string(reinterpret_cast<const char*>(run_state.data_ptr<uint8_t>()), size_t(run_state.numel()));
}

}  // namespace sp::prior
