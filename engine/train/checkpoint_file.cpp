#include "engine/train/checkpoint_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "engine/core/error.h"
#include "engine/core/record_file.h"
#include "engine/train/appearance.h"

namespace sp {

namespace {
constexpr std::string_view kMagic{"SPCKPT1\n", 8};
constexpr const char* kWhat = "checkpoint";

void read_model(const RecordFile& r, const std::string& prefix, GaussianModel& m, size_t n) {
  r.floats(prefix + "means", m.means, n * 3);
  r.floats(prefix + "log_scales", m.log_scales, n * 3);
  r.floats(prefix + "rotations", m.rotations, n * 4);
  r.floats(prefix + "opacities", m.opacities, n);
  r.floats(prefix + "sh", m.sh, n * size_t(m.sh_coeffs()) * 3);
  r.floats(prefix + "extras", m.extras, n * size_t(m.extra_channels));
}
}  // namespace

Checkpoint decode_checkpoint(std::string_view bytes, const std::string& where) {
  const RecordFile r = parse_record_file(bytes, kMagic, kWhat, where);
  Checkpoint c;
  c.views = r.number("views", 0, std::numeric_limits<int>::max());
  const long nfields = r.meta.count("fields") ? r.number("fields", 1, 2) : 1;
  c.fingerprint = r.meta_with_prefix("fp.");
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
    read_model(r, p + "model.", field.model, n);
    read_model(r, p + "adam_m.", field.adam.m, n);
    read_model(r, p + "adam_v.", field.adam.v, n);
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
  if (r.has("early_stop")) {
    const std::string_view es = r.record("early_stop");
    if (es.size() != 5 * sizeof(double)) throw_bad_input(where, "checkpoint early-stop state has the wrong size");
    c.early_stop.resize(5);
    std::memcpy(c.early_stop.data(), es.data(), es.size());
    for (double v : c.early_stop)
      if (!std::isfinite(v) || std::abs(v) > 1e15) throw_bad_input(where, "checkpoint early-stop state is out of range");
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

void write_checkpoint_magic(std::ostream& out) { out.write(kMagic.data(), std::streamsize(kMagic.size())); }

void write_checkpoint_record(std::ostream& out, const std::string& name, const void* data, uint64_t bytes) {
  write_record(out, name, data, bytes);
}

Fingerprint read_checkpoint_fingerprint(const std::string& path) { return read_record_meta(path, kMagic, kWhat, "fp."); }

}  // namespace sp
