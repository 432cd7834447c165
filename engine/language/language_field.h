#pragma once
// The language field of a Gaussian model, LangSplatV2-style (docs/language.md): for each of
// `levels` SAM granularities (3: small, medium, large) a dictionary C of L codes x D dims
// (L = 64, D = 512 by default) and per Gaussian L logits z. A Gaussian's code over the
// dictionary is sparse: softmax(z) restricted to its top-K logits and renormalized, which is
// softmax over the K largest logits alone. A pixel's feature is the alpha-blended code w
// (an L-vector) times C; the relevance of a query is computed from w without decoding
// (engine/language/relevance.h).
//
// Storage: the logits travel in the model's extra channels (N x levels*L, level-major:
// channel l*L + j is logit j of level l), written as the PLY's f_extra_* properties that
// other tools ignore; the dictionaries go beside the PLY in "<model>.language.npy"
// (float32 [levels, L, D]).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/gaussian_model.h"

namespace sp {

struct LanguageField {
  int levels = 3, codes = 64, dims = 512, top_k = 4;
  std::vector<float> dictionary;  // levels x L x D
  std::vector<float> logits;      // N x levels x L

  size_t size() const { return codes * levels == 0 ? 0 : logits.size() / size_t(levels * codes); }
  const float* level_dictionary(int level) const { return dictionary.data() + size_t(level) * codes * dims; }
  // BadInput naming `where` for inconsistent sizes, K outside [1, L] or non-finite values.
  void validate(const std::string& where) const;
};

// Each Gaussian's top-K (index, weight) pairs per level: N x levels x K of each.
struct SparseCodes {
  int levels = 0, codes = 0, top_k = 0;
  std::vector<uint16_t> index;
  std::vector<float> weight;
  size_t size() const { return levels * top_k == 0 ? 0 : weight.size() / size_t(levels * top_k); }
};

// The top-K renormalized softmax of `logits` (L values) into the K (index, weight) pairs.
// Ties keep the lower index first.
void sparse_code(const float* logits, int codes, int top_k, uint16_t* index, float* weight);
SparseCodes sparse_codes(const LanguageField& field);
// The same codes as dense L-vectors per level (zeros outside the top K): N x levels x L.
std::vector<float> dense_codes(const LanguageField& field);
// Backward of sparse_code for one Gaussian and level: dL/dz from dL/dw over the dense
// L-vector (only the top-K entries of dz are non-zero).
template <class T>
void sparse_code_backward(const T* logits, int codes, int top_k, const T* grad_dense, T* grad_logits);

// Lloyd's k-means (k-means++ seeding, `iterations` rounds) of `count` points of `dims`
// values into `k` centres, which are scaled to unit length (features are compared by
// cosine). Fewer distinct points than k: the extra centres are jittered copies.
std::vector<float> kmeans_unit_centres(const float* points, size_t count, int dims, int k, uint64_t seed,
                                       int iterations = 20);

// Attaches the field to the model (its extras become the logits) and back.
void store_language_field(GaussianModel& model, const LanguageField& field);
// Reads the field of `model` whose dictionaries are in `dictionary_path`; BadInput when the
// extra channel count does not match levels x L of the dictionary file.
LanguageField load_language_field(const GaussianModel& model, const std::string& dictionary_path, int top_k);
std::string dictionary_path_for(const std::string& ply_path);  // "<stem>.language.npy" beside it
void write_dictionary(const std::string& path, const LanguageField& field);

}  // namespace sp
