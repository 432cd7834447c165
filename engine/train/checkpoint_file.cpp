#include "engine/train/checkpoint_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "engine/core/error.h"
#include "engine/train/appearance.h"

namespace sp {

namespace {
constexpr char kMagic[] = "SPCKPT1\n";

struct Records {
  std::map<std::string, std::string_view> bytes;  // views into the file's bytes
  std::map<std::string, std::string> meta;
  const std::string& where;

  long number(const std::string& key, long lo, long hi) const {
    const auto it = meta.find(key);
    if (it == meta.end()) throw_bad_input(where, "checkpoint lacks '" + key + "'");
    const std::string& s = it->second;
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(s, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != s.size()) throw_bad_input(where, "checkpoint field '" + key + "' is not a number ('" + s + "')");
    if (v < lo || v > hi)
      throw_bad_input(where, "checkpoint field '" + key + "' is " + s + ", expected " + std::to_string(lo) + ".." +
                                 std::to_string(hi));
    return v;
  }

  // A count of things stored in the file, which cannot exceed its size.
  size_t count(const std::string& key, size_t file_bytes) const {
    const long v = number(key, 0, std::numeric_limits<long>::max());
    if (size_t(v) > file_bytes)
      throw_bad_input(where, "checkpoint field '" + key + "' is " + std::to_string(v) + ", more than its " +
                                 std::to_string(file_bytes) + " bytes can hold");
    return size_t(v);
  }

  std::string_view record(const std::string& name) const {
    const auto it = bytes.find(name);
    if (it == bytes.end()) throw_bad_input(where, "checkpoint lacks record '" + name + "'");
    return it->second;
  }

  void floats(const std::string& name, std::vector<float>& v, size_t expected) const {
    const std::string_view r = record(name);
    // expected <= the file's size (the caller bounds the counts), so expected * 4 cannot overflow.
    if (r.size() != expected * sizeof(float))
      throw_bad_input(where, "array '" + name + "' has " + std::to_string(r.size()) + " bytes, expected " +
                                 std::to_string(expected) + " floats");
    v.resize(expected);
    if (expected > 0) std::memcpy(v.data(), r.data(), r.size());  // data() may be null when empty
  }

  void model(const std::string& prefix, GaussianModel& m, size_t n) const {
    floats(prefix + "means", m.means, n * 3);
    floats(prefix + "log_scales", m.log_scales, n * 3);
    floats(prefix + "rotations", m.rotations, n * 4);
    floats(prefix + "opacities", m.opacities, n);
    floats(prefix + "sh", m.sh, n * size_t(m.sh_coeffs()) * 3);
    floats(prefix + "extras", m.extras, n * size_t(m.extra_channels));
  }

  void rng(const std::string& name, std::mt19937_64& engine) const {
    std::istringstream in{std::string(record(name))};
    in >> engine;
    if (!in) throw_bad_input(where, "checkpoint RNG state '" + name + "' is unreadable");
  }
};

Records parse_records(std::string_view data, const std::string& where) {
  if (data.size() < 8 || std::memcmp(data.data(), kMagic, 8) != 0)
    throw_bad_input(where, "not a sparsplat checkpoint (bad magic)");
  Records r{{}, {}, where};
  size_t pos = 8;
  while (pos < data.size()) {
    uint32_t n = 0;
    uint64_t bytes = 0;
    if (data.size() - pos < 4) throw_bad_input(where, "truncated record header at byte " + std::to_string(pos));
    std::memcpy(&n, data.data() + pos, 4);
    pos += 4;
    if (data.size() - pos < uint64_t(n) + 8) throw_bad_input(where, "truncated record name at byte " + std::to_string(pos));
    std::string name(data.substr(pos, n));
    pos += n;
    std::memcpy(&bytes, data.data() + pos, 8);
    pos += 8;
    if (data.size() - pos < bytes) throw_bad_input(where, "record '" + name + "' is truncated");
    if (!r.bytes.emplace(name, data.substr(pos, size_t(bytes))).second)
      throw_bad_input(where, "record '" + name + "' appears twice");
    pos += size_t(bytes);
  }
  std::istringstream meta{std::string(r.record("meta"))};
  for (std::string line; std::getline(meta, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) r.meta[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return r;
}
}  // namespace

Checkpoint decode_checkpoint(std::string_view bytes, const std::string& where) {
  const Records r = parse_records(bytes, where);
  Checkpoint c;
  c.views = r.number("views", 0, std::numeric_limits<int>::max());
  const long nfields = r.meta.count("fields") ? r.number("fields", 1, 2) : 1;
  for (const auto& [key, value] : r.meta)
    if (key.rfind("fp.", 0) == 0) c.fingerprint.emplace_back(key.substr(3), value);
  const int degree = int(r.number("sh_degree", 0, 3));
  const int extras = int(r.number("extra_channels", 0, 4096));
  c.fields.resize(size_t(nfields));
  for (size_t f = 0; f < c.fields.size(); ++f) {
    const std::string p = f == 0 ? "" : "field" + std::to_string(f) + ".";
    // Every Gaussian has floats in the file: no count above its size, so n * 48 cannot overflow.
    const size_t n = r.count(p + "gaussians", bytes.size());
    CheckpointField& field = c.fields[f];
    for (GaussianModel* g : {&field.model, &field.adam.m, &field.adam.v}) {
      g->sh_degree = degree;
      g->extra_channels = extras;
    }
    r.model(p + "model.", field.model, n);
    r.model(p + "adam_m.", field.adam.m, n);
    r.model(p + "adam_v.", field.adam.v, n);
    field.model.validate(where);
    field.adam.step = r.number(p + "adam_step", 0, std::numeric_limits<long>::max());
    r.floats(p + "density.grad_accum", field.grad_accum, n);
    r.floats(p + "density.visible_count", field.visible_count, n);
    r.floats(p + "density.max_radius", field.max_radius, n);
    if (f > 0) r.rng(p + "rng", field.rng);
  }
  const std::string_view stack = r.record("view_stack");
  if (stack.size() % sizeof(int) != 0) throw_bad_input(where, "checkpoint view order has a partial entry");
  c.view_stack.resize(stack.size() / sizeof(int));
  if (!c.view_stack.empty()) std::memcpy(c.view_stack.data(), stack.data(), stack.size());
  for (int s : c.view_stack)
    if (s < 0 || long(s) >= c.views) throw_bad_input(where, "checkpoint view order names a missing view");
  r.rng("rng", c.rng);
  if (const auto it = r.bytes.find("lr_factor"); it != r.bytes.end()) {
    if (it->second.size() != sizeof c.lr_factor)
      throw_bad_input(where, "checkpoint learning-rate factors have the wrong size");
    std::memcpy(&c.lr_factor, it->second.data(), sizeof c.lr_factor);
  }
  c.loss_ema_bits = uint32_t(r.number("loss_ema_bits", 0, 0xffffffffL));
  c.iteration = r.number("iteration", 0, std::numeric_limits<long>::max());
  c.active_sh_degree = int(r.number("active_sh_degree", 0, degree));
  if (r.meta.count("appearance_codes")) {
    CheckpointAppearance& a = c.appearance;
    a.present = true;
    a.codes = r.count("appearance_codes", bytes.size());
    const size_t values = a.codes * kAppearanceParams;
    r.floats("appearance.codes", a.values, values);
    r.floats("appearance.adam_m", a.adam_m, values);
    r.floats("appearance.adam_v", a.adam_v, values);
    for (float v : a.values)
      if (!std::isfinite(v)) throw_bad_input(where, "checkpoint appearance codes are not finite");
    const std::string_view steps = r.record("appearance.steps");
    if (steps.size() != a.codes * sizeof(long)) throw_bad_input(where, "checkpoint lacks the appearance codes' step counts");
    a.steps.resize(a.codes);
    if (a.codes > 0) std::memcpy(a.steps.data(), steps.data(), steps.size());
    a.lr_factor_bits = uint32_t(r.number("appearance_lr_factor_bits", 0, 0xffffffffL));
  }
  return c;
}

void write_checkpoint_magic(std::ostream& out) { out.write(kMagic, 8); }

void write_checkpoint_record(std::ostream& out, const std::string& name, const void* data, uint64_t bytes) {
  const uint32_t n = uint32_t(name.size());
  out.write(reinterpret_cast<const char*>(&n), 4);
  out.write(name.data(), n);
  out.write(reinterpret_cast<const char*>(&bytes), 8);
  out.write(static_cast<const char*>(data), std::streamsize(bytes));
}

Fingerprint read_checkpoint_fingerprint(const std::string& path) {
  // The meta record comes first: read only the header, not the arrays.
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  uint32_t n = 0;
  uint64_t bytes = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) throw_bad_input(path, "not a sparsplat checkpoint (bad magic)");
  std::string name;
  if (in.read(reinterpret_cast<char*>(&n), 4) && n < 64) {
    name.resize(n);
    in.read(name.data(), n);
    in.read(reinterpret_cast<char*>(&bytes), 8);
  }
  if (!in || name != "meta" || bytes > (1u << 20)) throw_bad_input(path, "checkpoint header is unreadable");
  std::string meta(size_t(bytes), '\0');
  if (!in.read(meta.data(), std::streamsize(bytes))) throw_bad_input(path, "checkpoint header is truncated");
  Fingerprint fp;
  std::istringstream lines(meta);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("fp.", 0) == 0 && line.find('=') != std::string::npos)
      fp.emplace_back(line.substr(3, line.find('=') - 3), line.substr(line.find('=') + 1));
  return fp;
}

}  // namespace sp
