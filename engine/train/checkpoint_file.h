#pragma once
// The trainer's checkpoint file, decoded without a Trainer (so it can be checked and fuzzed
// on its own). Layout: "SPCKPT1\n", then records [u32 name length][name][u64 byte
// count][bytes]; record "meta" holds key=value lines, "rng" / "fieldN.rng" the text state
// of a std::mt19937_64, the others raw little-endian arrays (float32; view_stack int32).
// Field 0's records have no prefix, a co-trained partner's start with "field1.".
#include <cstdint>
#include <iosfwd>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/gaussian_model.h"
#include "engine/train/adam.h"

namespace sp {

// What a checkpoint must agree on with the run continuing it (key, value): train views,
// image size, options that change the result.
using Fingerprint = std::vector<std::pair<std::string, std::string>>;

struct CheckpointField {
  GaussianModel model;
  AdamState adam;
  std::vector<float> grad_accum, visible_count, max_radius;  // densification statistics
  std::mt19937_64 rng;  // read for fields after the first (field 0 splits the run's RNG)
};

// The per-photo colour codes of an in-the-wild run (engine/train/appearance.h) and their
// optimizer; absent (codes == 0, present false) in a run without them.
struct CheckpointAppearance {
  bool present = false;
  size_t codes = 0;
  std::vector<float> values, adam_m, adam_v;  // codes x kAppearanceParams
  std::vector<long> steps;                    // per code
  uint32_t lr_factor_bits = 0;                // the codes' NaN-rollback learning-rate factor
};

struct Checkpoint {
  long views = 0;  // the dataset's view count at save time
  long iteration = 0;
  int active_sh_degree = 0;
  uint32_t loss_ema_bits = 0;
  Fingerprint fingerprint;  // empty for an older checkpoint
  std::vector<CheckpointField> fields;
  std::vector<int> view_stack;
  std::mt19937_64 rng;
  LearningRates lr_factor{1, 1, 1, 1, 1, 1, 1};
  CheckpointAppearance appearance;
  std::vector<double> early_stop;  // EarlyStop::state(); empty when the run had none
};

// Decodes a whole checkpoint file's bytes. BadInput naming `where` for anything malformed:
// bad magic, truncated records, missing or non-numeric fields, counts out of range, arrays
// whose size does not match the header, non-finite parameters, unreadable RNG states.
// Counts are checked against the file's size before anything is allocated.
Checkpoint decode_checkpoint(std::string_view bytes, const std::string& where);

// Writers for Trainer::save_checkpoint: the magic, then one record each.
void write_checkpoint_magic(std::ostream& out);
void write_checkpoint_record(std::ostream& out, const std::string& name, const void* data, uint64_t bytes);

// The fingerprint a checkpoint file was written with (empty for an older checkpoint); reads
// only the file's header. BadInput if it is not a checkpoint.
Fingerprint read_checkpoint_fingerprint(const std::string& path);

}  // namespace sp
