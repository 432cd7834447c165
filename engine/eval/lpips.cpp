#include "engine/eval/lpips.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"

namespace sp {
namespace {

constexpr char kMagic[8] = {'S', 'P', 'L', 'P', 'I', 'P', 'S', '1'};
constexpr uint32_t kTensors = 15;
// AlexNet's feature layers: (out, in, kernel, stride, pad).
constexpr int kLayers[5][5] = {{64, 3, 11, 4, 2}, {192, 64, 5, 1, 2}, {384, 192, 3, 1, 1}, {256, 384, 3, 1, 1},
                               {256, 256, 3, 1, 1}};
constexpr float kShift[3] = {-0.030f, -0.088f, -0.188f};
constexpr float kScale[3] = {0.458f, 0.448f, 0.450f};

// Channel-major feature map.
struct Map {
  int c = 0, h = 0, w = 0;
  std::vector<float> v;
  Map() = default;
  Map(int c_, int h_, int w_) : c(c_), h(h_), w(w_), v(size_t(c_) * h_ * w_, 0.0f) {}
  float* plane(int k) { return v.data() + size_t(k) * h * w; }
  const float* plane(int k) const { return v.data() + size_t(k) * h * w; }
};

// Output columns ox with 0 <= ox * s - p + kx < w_in.
void valid_range(int out, int in, int s, int p, int k, int& lo, int& hi) {
  lo = std::max(0, (p - k + s - 1) / s);
  hi = std::min(out, (in - 1 + p - k) / s + 1);
  if ((in - 1 + p - k) < 0) hi = 0;
}

// Convolution + ReLU. Four output channels share each pass over an input row; each output
// value is accumulated in a fixed order (input channel, ky, kx), so results do not depend
// on the thread count.
Map conv_relu(const Map& in, const LpipsConv& L) {
  const int K = L.kernel, s = L.stride, p = L.pad;
  const int oh = (in.h + 2 * p - K) / s + 1, ow = (in.w + 2 * p - K) / s + 1;
  if (oh < 1 || ow < 1) throw_internal("lpips: feature map too small for a convolution");
  Map out(L.out, oh, ow);
  constexpr int kBlock = 4;
  const int blocks = (L.out + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic)
  for (int b = 0; b < blocks; ++b) {
    const int oc0 = b * kBlock, n = std::min(kBlock, L.out - oc0);
    float* o[kBlock];
    const float* wk[kBlock];
    for (int j = 0; j < kBlock; ++j) {
      const int oc = oc0 + std::min(j, n - 1);
      o[j] = out.plane(oc);
      wk[j] = L.weight.data() + size_t(oc) * L.in * K * K;
    }
    std::vector<float> acc(size_t(kBlock) * ow);
    for (int oy = 0; oy < oh; ++oy) {
      for (int j = 0; j < kBlock; ++j) std::fill_n(acc.data() + size_t(j) * ow, ow, L.bias[size_t(oc0 + std::min(j, n - 1))]);
      float* a0 = acc.data();
      float* a1 = a0 + ow;
      float* a2 = a1 + ow;
      float* a3 = a2 + ow;
      for (int ic = 0; ic < L.in; ++ic) {
        for (int ky = 0; ky < K; ++ky) {
          const int iy = oy * s - p + ky;
          if (iy < 0 || iy >= in.h) continue;
          const float* row = in.plane(ic) + size_t(iy) * in.w;
          for (int kx = 0; kx < K; ++kx) {
            const size_t wi = (size_t(ic) * K + ky) * K + kx;
            const float w0 = wk[0][wi], w1 = wk[1][wi], w2 = wk[2][wi], w3 = wk[3][wi];
            int lo = 0, hi = 0;
            valid_range(ow, in.w, s, p, kx, lo, hi);
            const int shift = kx - p;
            if (s == 1) {
              const float* r = row + shift;
              for (int ox = lo; ox < hi; ++ox) {
                const float x = r[ox];
                a0[ox] += w0 * x;
                a1[ox] += w1 * x;
                a2[ox] += w2 * x;
                a3[ox] += w3 * x;
              }
            } else {
              for (int ox = lo; ox < hi; ++ox) {
                const float x = row[ox * s + shift];
                a0[ox] += w0 * x;
                a1[ox] += w1 * x;
                a2[ox] += w2 * x;
                a3[ox] += w3 * x;
              }
            }
          }
        }
      }
      for (int j = 0; j < n; ++j) {
        float* dst = o[j] + size_t(oy) * ow;
        const float* src = acc.data() + size_t(j) * ow;
        for (int ox = 0; ox < ow; ++ox) dst[ox] = std::max(0.0f, src[ox]);
      }
    }
  }
  return out;
}

Map max_pool(const Map& in) {
  const int oh = (in.h - 3) / 2 + 1, ow = (in.w - 3) / 2 + 1;
  if (oh < 1 || ow < 1) throw_internal("lpips: feature map too small for pooling");
  Map out(in.c, oh, ow);
#pragma omp parallel for schedule(static)
  for (int k = 0; k < in.c; ++k) {
    const float* src = in.plane(k);
    float* dst = out.plane(k);
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x) {
        float m = src[size_t(2 * y) * in.w + 2 * x];
        for (int dy = 0; dy < 3; ++dy)
          for (int dx = 0; dx < 3; ++dx) m = std::max(m, src[size_t(2 * y + dy) * in.w + 2 * x + dx]);
        dst[size_t(y) * ow + x] = m;
      }
  }
  return out;
}

// The five ReLU taps of one image.
std::array<Map, 5> features(const LpipsWeights& w, const Image& img) {
  Map x(3, img.height, img.width);
  for (int c = 0; c < 3; ++c) {
    float* dst = x.plane(c);
    for (int y = 0; y < img.height; ++y)
      for (int i = 0; i < img.width; ++i)
        dst[size_t(y) * img.width + i] = (2.0f * img.at(i, y, c) - 1.0f - kShift[c]) / kScale[c];
  }
  std::array<Map, 5> taps;
  taps[0] = conv_relu(x, w.conv[0]);
  taps[1] = conv_relu(max_pool(taps[0]), w.conv[1]);
  taps[2] = conv_relu(max_pool(taps[1]), w.conv[2]);
  taps[3] = conv_relu(taps[2], w.conv[3]);
  taps[4] = conv_relu(taps[3], w.conv[4]);
  return taps;
}

// Mean over pixels of sum_c lin_c (a_c / (|a| + eps) - b_c / (|b| + eps))^2; per-row sums
// added in row order.
double tap_distance(const Map& a, const Map& b, const std::vector<float>& lin) {
  constexpr double kEps = 1e-10;
  const size_t hw = size_t(a.h) * a.w;
  std::vector<double> rows(size_t(a.h), 0.0);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < a.h; ++y) {
    double row = 0;
    for (int x = 0; x < a.w; ++x) {
      const size_t p = size_t(y) * a.w + x;
      double na = 0, nb = 0;
      for (int k = 0; k < a.c; ++k) {
        const double va = a.v[k * hw + p], vb = b.v[k * hw + p];
        na += va * va;
        nb += vb * vb;
      }
      const double sa = 1.0 / (std::sqrt(na) + kEps), sb = 1.0 / (std::sqrt(nb) + kEps);
      double d = 0;
      for (int k = 0; k < a.c; ++k) {
        const double diff = a.v[k * hw + p] * sa - b.v[k * hw + p] * sb;
        d += double(lin[size_t(k)]) * diff * diff;
      }
      row += d;
    }
    rows[size_t(y)] = row;
  }
  double sum = 0;
  for (double r : rows) sum += r;
  return sum / double(hw);
}

void check_image(const Image& im, const char* which) {
  if (im.channels < 3) throw_bad_input("lpips", std::string(which) + " image has " + std::to_string(im.channels) + " channels, expected RGB");
  if (im.width < Lpips::kMinSide || im.height < Lpips::kMinSide)
    throw_bad_input("lpips", std::string(which) + " image is " + std::to_string(im.width) + "x" + std::to_string(im.height) +
                                 ", smaller than the 31x31 pixels AlexNet needs");
}

// ---- weights file ----

struct Reader {
  const std::string& bytes;
  const std::string& path;
  size_t pos = 0;
  void need(size_t n, const std::string& what) {
    if (bytes.size() - pos < n) throw_bad_input(path, "truncated in " + what);
  }
  uint32_t u32(const std::string& what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(bytes[pos + size_t(i)])) << (8 * i);
    pos += 4;
    return v;
  }
};

std::vector<std::pair<std::string, std::vector<uint32_t>>> expected_tensors() {
  std::vector<std::pair<std::string, std::vector<uint32_t>>> t;
  for (int k = 0; k < 5; ++k) {
    const auto* L = kLayers[k];
    const std::string base = "conv" + std::to_string(k + 1);
    t.push_back({base + ".weight", {uint32_t(L[0]), uint32_t(L[1]), uint32_t(L[2]), uint32_t(L[2])}});
    t.push_back({base + ".bias", {uint32_t(L[0])}});
  }
  for (int k = 0; k < 5; ++k) t.push_back({"lin" + std::to_string(k + 1) + ".weight", {1, uint32_t(kLayers[k][0]), 1, 1}});
  return t;
}

std::vector<float>& tensor_of(LpipsWeights& w, size_t i) {
  if (i < 10) return i % 2 == 0 ? w.conv[i / 2].weight : w.conv[i / 2].bias;
  return w.lin[i - 10];
}

std::string shape_text(const std::vector<uint32_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace

LpipsWeights lpips_alex_shapes() {
  LpipsWeights w;
  for (int k = 0; k < 5; ++k) {
    const auto* L = kLayers[k];
    LpipsConv& c = w.conv[size_t(k)];
    c.out = L[0];
    c.in = L[1];
    c.kernel = L[2];
    c.stride = L[3];
    c.pad = L[4];
    c.weight.assign(size_t(c.out) * c.in * c.kernel * c.kernel, 0.0f);
    c.bias.assign(size_t(c.out), 0.0f);
    w.lin[size_t(k)].assign(size_t(c.out), 0.0f);
  }
  return w;
}

LpipsWeights random_lpips_weights(uint64_t seed) {
  LpipsWeights w = lpips_alex_shapes();
  Rng rng(seed);
  for (LpipsConv& c : w.conv) {
    const float sd = std::sqrt(2.0f / float(c.in * c.kernel * c.kernel));
    for (float& v : c.weight) v = rng.normal(0.0f, sd);
    for (float& v : c.bias) v = rng.uniform(0.0f, 0.1f);
  }
  for (auto& lin : w.lin)
    for (float& v : lin) v = std::abs(rng.normal(0.0f, 0.1f));
  return w;
}

LpipsWeights read_lpips_weights(const std::string& path) {
  const std::string bytes = read_file(path);
  Reader r{bytes, path};
  r.need(8, "the header");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw_bad_input(path, "not an LPIPS weights file (expected the SPLPIPS1 header written by scripts/convert_lpips.py)");
  r.pos = 8;
  const uint32_t count = r.u32("the tensor count");
  if (count != kTensors)
    throw_bad_input(path, "holds " + std::to_string(count) + " tensors, expected " + std::to_string(kTensors));
  LpipsWeights w = lpips_alex_shapes();
  const auto expected = expected_tensors();
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, dims] = expected[i];
    const uint32_t len = r.u32("tensor " + std::to_string(i) + "'s name");
    r.need(len, "tensor " + std::to_string(i) + "'s name");
    const std::string found(bytes.data() + r.pos, len);
    r.pos += len;
    if (found != name) throw_bad_input(path, "tensor " + std::to_string(i) + " is '" + found + "', expected '" + name + "'");
    const uint32_t rank = r.u32(name + "'s rank");
    if (rank > 8) throw_bad_input(path, name + ": rank " + std::to_string(rank) + " (expected " + std::to_string(dims.size()) + ")");
    std::vector<uint32_t> got;
    for (uint32_t k = 0; k < rank; ++k) got.push_back(r.u32(name + "'s shape"));
    if (got != dims) throw_bad_input(path, name + " has shape " + shape_text(got) + ", expected " + shape_text(dims));
    std::vector<float>& dst = tensor_of(w, i);
    r.need(dst.size() * 4, name + "'s values");
    std::memcpy(dst.data(), bytes.data() + r.pos, dst.size() * 4);  // little-endian hosts only (x86-64, arm64)
    r.pos += dst.size() * 4;
    for (float v : dst)
      if (!std::isfinite(v)) throw_bad_input(path, name + " holds a non-finite value");
  }
  if (r.pos != bytes.size())
    throw_bad_input(path, std::to_string(bytes.size() - r.pos) + " bytes after the last tensor (not a v0.1 AlexNet LPIPS file?)");
  return w;
}

void write_lpips_weights(const std::string& path, const LpipsWeights& weights) {
  LpipsWeights w = weights;
  const auto expected = expected_tensors();
  write_file_atomic(path, [&](std::ostream& out) {
    const auto u32 = [&](uint32_t v) {
      char b[4];
      for (int i = 0; i < 4; ++i) b[i] = char((v >> (8 * i)) & 0xff);
      out.write(b, 4);
    };
    out.write(kMagic, 8);
    u32(kTensors);
    for (size_t i = 0; i < expected.size(); ++i) {
      const auto& [name, dims] = expected[i];
      const std::vector<float>& t = tensor_of(w, i);
      size_t n = 1;
      for (uint32_t d : dims) n *= d;
      if (t.size() != n) throw_internal("write_lpips_weights: " + name + " has " + std::to_string(t.size()) + " values");
      u32(uint32_t(name.size()));
      out.write(name.data(), std::streamsize(name.size()));
      u32(uint32_t(dims.size()));
      for (uint32_t d : dims) u32(d);
      out.write(reinterpret_cast<const char*>(t.data()), std::streamsize(t.size() * 4));
    }
  });
}

Lpips::Lpips(LpipsWeights weights) : w_(std::move(weights)) {}

Lpips Lpips::load(const std::string& path) {
  if (path.empty())
    throw_bad_input("LPIPS", "no weights file given: LPIPS (AlexNet, v0.1) needs the official weights converted with "
                             "scripts/convert_lpips.py (README, \"LPIPS weights\"); pass the result with --lpips FILE");
  return Lpips(read_lpips_weights(path));
}

std::array<double, 5> Lpips::tap_distances(const Image& a, const Image& b) const {
  check_image(a, "first");
  check_image(b, "second");
  if (a.width != b.width || a.height != b.height)
    throw_bad_input("lpips", "image sizes differ (" + std::to_string(a.width) + "x" + std::to_string(a.height) + " vs " +
                                 std::to_string(b.width) + "x" + std::to_string(b.height) + ")");
  const auto fa = features(w_, a), fb = features(w_, b);
  std::array<double, 5> d{};
  for (size_t k = 0; k < 5; ++k) d[k] = tap_distance(fa[k], fb[k], w_.lin[k]);
  return d;
}

double Lpips::distance(const Image& a, const Image& b) const {
  double sum = 0;
  for (double d : tap_distances(a, b)) sum += d;
  return sum;
}

}  // namespace sp
