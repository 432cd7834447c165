#include "engine/language/language_checkpoint.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <sstream>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/record_file.h"

namespace sp {

namespace {
constexpr std::string_view kMagic{"SPLANG1\n", 8};
constexpr const char* kWhat = "language checkpoint";

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}
}  // namespace

void write_language_checkpoint(const std::string& path, const LanguageCheckpoint& c) {
  const LanguageField& f = c.field;
  for (const std::vector<float>* v : {&f.dictionary, &f.logits, &c.m_logits, &c.v_logits, &c.m_dict, &c.v_dict})
    if (!all_finite(*v)) throw_internal("write_language_checkpoint(" + path + "): non-finite values");
  std::ostringstream meta;
  meta << "iteration=" << c.iteration << "\nlevels=" << f.levels << "\ncodes=" << f.codes << "\ndims=" << f.dims
       << "\ntop_k=" << f.top_k << "\ngaussians=" << f.size() << "\nnext=" << c.next
       << "\nshuffle_state=" << c.shuffle_state << "\nloss_ema_bits=" << c.loss_ema_bits << "\n";
  for (const auto& [key, value] : c.fingerprint) meta << "fp." << key << "=" << value << "\n";
  const std::string meta_s = meta.str();
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(kMagic.data(), std::streamsize(kMagic.size()));
    write_record(out, "meta", meta_s.data(), meta_s.size());
    write_record(out, "dictionary", f.dictionary);
    write_record(out, "logits", f.logits);
    write_record(out, "adam.m_logits", c.m_logits);
    write_record(out, "adam.v_logits", c.v_logits);
    write_record(out, "adam.m_dictionary", c.m_dict);
    write_record(out, "adam.v_dictionary", c.v_dict);
    write_record(out, "order", c.order.data(), c.order.size() * sizeof(int));
  }, /*durable=*/true);
}

LanguageCheckpoint decode_language_checkpoint(std::string_view bytes, const std::string& where) {
  const RecordFile r = parse_record_file(bytes, kMagic, kWhat, where);
  LanguageCheckpoint c;
  LanguageField& f = c.field;
  f.levels = int(r.number("levels", 1, 16));
  f.codes = int(r.number("codes", 1, 4096));
  f.dims = int(r.number("dims", 1, 1 << 16));
  f.top_k = int(r.number("top_k", 1, f.codes));
  // Every Gaussian has levels x codes floats in the file: the count cannot exceed its size.
  const size_t n = r.count("gaussians", bytes.size());
  const size_t dict = size_t(f.levels) * size_t(f.codes) * size_t(f.dims), logits = n * size_t(f.levels) * size_t(f.codes);
  if (dict > bytes.size() || logits > bytes.size()) throw_bad_input(where, "language checkpoint shapes exceed the file");
  r.floats("dictionary", f.dictionary, dict);
  r.floats("logits", f.logits, logits);
  r.floats("adam.m_logits", c.m_logits, logits);
  r.floats("adam.v_logits", c.v_logits, logits);
  r.floats("adam.m_dictionary", c.m_dict, dict);
  r.floats("adam.v_dictionary", c.v_dict, dict);
  for (const std::vector<float>* v : {&f.dictionary, &f.logits, &c.m_logits, &c.v_logits, &c.m_dict, &c.v_dict})
    if (!all_finite(*v)) throw_bad_input(where, "language checkpoint values are not finite");
  const std::string_view order = r.record("order");
  if (order.size() % sizeof(int) != 0) throw_bad_input(where, "language checkpoint view order has a partial entry");
  c.order.resize(order.size() / sizeof(int));
  if (!c.order.empty()) std::memcpy(c.order.data(), order.data(), order.size());
  for (int v : c.order)
    if (v < 0 || size_t(v) >= c.order.size()) throw_bad_input(where, "language checkpoint view order names a missing view");
  c.next = uint64_t(r.number("next", 0, long(c.order.size())));
  c.iteration = r.number("iteration", 0, std::numeric_limits<long>::max());
  // The shuffle counter is a full 64-bit value; it is written unsigned.
  const auto it = r.meta.find("shuffle_state");
  if (it == r.meta.end()) throw_bad_input(where, "language checkpoint lacks 'shuffle_state'");
  size_t used = 0;
  try {
    c.shuffle_state = std::stoull(it->second, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != it->second.size() || it->second[0] == '-')
    throw_bad_input(where, "language checkpoint field 'shuffle_state' is not a number ('" + it->second + "')");
  c.loss_ema_bits = uint32_t(r.number("loss_ema_bits", 0, 0xffffffffL));
  c.fingerprint = r.meta_with_prefix("fp.");
  f.validate(where);
  return c;
}

LanguageCheckpoint read_language_checkpoint(const std::string& path) {
  return decode_language_checkpoint(read_file(path), path);
}

Fingerprint read_language_checkpoint_fingerprint(const std::string& path) {
  return read_record_meta(path, kMagic, kWhat, "fp.");
}

}  // namespace sp
