#pragma once
// The language trainer's resumable state (docs/language.md "Checkpoints and resume"): a
// record file (engine/core/record_file.h) with magic "SPLANG1\n". Meta: the field's shape,
// the iteration, the view-order position and shuffle counter, the loss EMA's bits and the
// run's fingerprint (fp.*: the frozen model's and the features' hashes, views, options).
// Records: dictionary, logits, the four Adam moment arrays, the current view order (int32).
// Restoring it into a trainer of the same model, views and options continues bit-exactly.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/language/language_field.h"
#include "engine/train/checkpoint_file.h"  // Fingerprint

namespace sp {

struct LanguageCheckpoint {
  long iteration = 0;
  LanguageField field;
  std::vector<float> m_logits, v_logits, m_dict, v_dict;  // Adam moments, the sizes of the field's arrays
  std::vector<int> order;                                 // this epoch's view order
  uint64_t next = 0;                                      // position in it
  uint64_t shuffle_state = 0;                             // seed of the next epoch's shuffle
  uint32_t loss_ema_bits = 0;                             // the smoothed loss (float bits; -1.0f before any step)
  Fingerprint fingerprint;
};

// Written atomically (engine/core/atomic_file.h); InternalError for a field with non-finite values.
void write_language_checkpoint(const std::string& path, const LanguageCheckpoint& checkpoint);
// BadInput naming `where` for anything malformed (bad magic, truncation, shapes that disagree
// with the meta, counts beyond the file's size, non-finite values, an order naming views that
// are not there or a position past its end).
LanguageCheckpoint decode_language_checkpoint(std::string_view bytes, const std::string& where);
LanguageCheckpoint read_language_checkpoint(const std::string& path);
// The fingerprint alone (the header), to refuse another run's file before any work.
Fingerprint read_language_checkpoint_fingerprint(const std::string& path);

}  // namespace sp
