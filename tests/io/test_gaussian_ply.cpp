// GaussianModel <-> INRIA-layout PLY: exact round trips, the exact property layout,
// another tool's file, and bad files (a seeded mutation loop) giving BadInput errors.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/io/ply.h"
#include "engine/io/gaussian_ply.h"
#include "support/random_model.h"
#include "support/fuzz.h"
#include "support/test_support.h"

namespace sp {
namespace {

using ::sp::test::expect_bad_input;

GaussianModel random_model(size_t n, int degree, int extras, uint64_t seed) {
  Rng rng(seed);
  return test::random_model(rng, n, degree, extras, 2.0f);
}

void expect_bit_equal(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  if (!a.empty()) {  // memcmp on the null data() of an empty vector is UB
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << what;
  }
}

void expect_same_model(const GaussianModel& a, const GaussianModel& b) {
  EXPECT_EQ(a.sh_degree, b.sh_degree);
  EXPECT_EQ(a.extra_channels, b.extra_channels);
  expect_bit_equal(a.means, b.means, "means");
  expect_bit_equal(a.log_scales, b.log_scales, "log_scales");
  expect_bit_equal(a.rotations, b.rotations, "rotations");
  expect_bit_equal(a.opacities, b.opacities, "opacities");
  expect_bit_equal(a.sh, b.sh, "sh");
  expect_bit_equal(a.extras, b.extras, "extras");
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ModelPly, RoundTripIsBitExactAtEveryDegree) {
  const std::string dir = test::temp_dir("model-ply");
  for (int degree = 0; degree <= 3; ++degree)
    for (int extras : {0, 5}) {
      SCOPED_TRACE("degree " + std::to_string(degree) + " extras " + std::to_string(extras));
      const GaussianModel m = random_model(1000 + size_t(degree), degree, extras, 17 + uint64_t(degree * 10 + extras));
      const std::string path = dir + "/m" + std::to_string(degree) + "_" + std::to_string(extras) + ".ply";
      write_gaussian_ply(path, m);
      expect_same_model(read_gaussian_ply(path), m);
      EXPECT_FALSE(std::filesystem::exists(path + ".tmp-" + std::to_string(::getpid())));
    }
  // An empty model is a valid file too.
  GaussianModel empty;
  write_gaussian_ply(dir + "/empty.ply", empty);
  EXPECT_EQ(read_gaussian_ply(dir + "/empty.ply").size(), 0u);
}

TEST(ModelPly, FileLayoutIsInriaExactly) {
  const int degree = 2, E = 3;
  const size_t n = 5;
  const GaussianModel m = random_model(n, degree, E, 3);
  const std::string path = test::temp_dir("model-layout") + "/m.ply";
  write_gaussian_ply(path, m);
  const ply::PlyData d = ply::read_ply(path);
  EXPECT_EQ(d.header().format, ply::Format::BinaryLittleEndian);
  ASSERT_EQ(d.header().elements.size(), 1u);
  const ply::Element& v = d.header().elements[0];
  EXPECT_EQ(v.name, "vertex");
  EXPECT_EQ(v.count, n);
  std::vector<std::string> expected = {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"};
  const int K = sh_coeff_count(degree);
  for (int i = 0; i < 3 * (K - 1); ++i) expected.push_back("f_rest_" + std::to_string(i));
  for (const char* s : {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"}) expected.push_back(s);
  for (int i = 0; i < E; ++i) expected.push_back("f_extra_" + std::to_string(i));
  ASSERT_EQ(v.properties.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(v.properties[i].name, expected[i]);
    EXPECT_EQ(v.properties[i].type, ply::Type::Float32);
    EXPECT_FALSE(v.properties[i].is_list);
  }
  // Header text exactly as INRIA writes it, and nothing but rows after it.
  const std::string bytes = slurp(path);
  EXPECT_EQ(bytes.rfind("ply\nformat binary_little_endian 1.0\n", 0), 0u);
  EXPECT_NE(bytes.find("\nelement vertex 5\nproperty float x\nproperty float y\n"), std::string::npos);
  EXPECT_EQ(bytes.size(), d.header().data_offset + n * expected.size() * 4);
  // Values: normals zero, f_rest channel-major, the rest as stored.
  for (const char* nn : {"nx", "ny", "nz"})
    for (float x : d.floats("vertex", nn)) EXPECT_EQ(x, 0.0f);
  for (int c = 0; c < 3; ++c) {
    const auto dc = d.floats("vertex", "f_dc_" + std::to_string(c));
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(dc[i], m.sh[(i * size_t(K) + 0) * 3 + size_t(c)]);
    for (int k = 1; k < K; ++k) {
      const auto rest = d.floats("vertex", "f_rest_" + std::to_string(c * (K - 1) + k - 1));
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(rest[i], m.sh[(i * size_t(K) + size_t(k)) * 3 + size_t(c)]);
    }
  }
  const auto r3 = d.floats("vertex", "rot_3");
  const auto op = d.floats("vertex", "opacity");
  const auto s1 = d.floats("vertex", "scale_1");
  const auto e2 = d.floats("vertex", "f_extra_2");
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(r3[i], m.rotations[i * 4 + 3]);
    EXPECT_EQ(op[i], m.opacities[i]);
    EXPECT_EQ(s1[i], m.log_scales[i * 3 + 1]);
    EXPECT_EQ(e2[i], m.extras[i * 3 + 2]);
  }
}

TEST(ModelPly, ReadsOpenSplatModel) {
  SP_REQUIRE_DATASET(dir, "opensplat_statue");
  const GaussianModel m = read_gaussian_ply(dir + "/point_cloud.ply");
  EXPECT_EQ(m.size(), 27509u);
  EXPECT_EQ(m.sh_degree, 3);
  EXPECT_EQ(m.extra_channels, 0);
  m.validate("opensplat");  // all finite
  // At 500 steps OpenSplat has trained only the DC term: every higher coefficient is 0.
  const size_t K = 16;
  double dc_energy = 0;
  for (size_t i = 0; i < m.size(); ++i)
    for (size_t k = 0; k < K; ++k)
      for (size_t c = 0; c < 3; ++c) {
        const float v = m.sh[(i * K + k) * 3 + c];
        if (k == 0) dc_energy += double(v) * v;
        else ASSERT_EQ(v, 0.0f) << "Gaussian " << i << " coefficient " << k;
      }
  EXPECT_GT(dc_energy, 0.0);
  // Quaternions usable (OpenSplat writes them unnormalized, like INRIA).
  for (size_t i = 0; i < m.size(); ++i) {
    const float* q = &m.rotations[i * 4];
    ASSERT_GT(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3], 1e-12f) << i;
  }
  // Rewriting it reproduces the same values.
  const std::string path = test::temp_dir("opensplat") + "/again.ply";
  write_gaussian_ply(path, m);
  expect_same_model(read_gaussian_ply(path), m);
  // The layout matches OpenSplat's byte for byte after the header (same properties, same order).
  const std::string ours = slurp(path), theirs = slurp(dir + "/point_cloud.ply");
  const size_t a = ours.find("end_header\n") + 11, b = theirs.find("end_header\n") + 11;
  EXPECT_TRUE(ours.compare(a, std::string::npos, theirs, b, std::string::npos) == 0);
}

TEST(ModelPly, ReadsAsciiAndDoubleFilesWithPropertiesInAnyOrder) {
  // Another tool may write doubles, reorder properties, or add its own.
  const std::string text =
      "ply\nformat ascii 1.0\nelement vertex 2\n"
      "property double rot_0\nproperty double rot_1\nproperty double rot_2\nproperty double rot_3\n"
      "property float opacity\nproperty float red\nproperty float x\nproperty float y\nproperty float z\n"
      "property float scale_0\nproperty float scale_1\nproperty float scale_2\n"
      "property float f_dc_0\nproperty float f_dc_1\nproperty float f_dc_2\n"
      "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
      "1 0 0 0 0.5 9 1 2 3 -1 -2 -3 0.1 0.2 0.3\n"
      "0 1 0 0 -0.5 9 4 5 6 -4 -5 -6 0.4 0.5 0.6\n"
      "3 0 1 1\n";
  const std::string path = test::temp_dir("model-ascii") + "/a.ply";
  write_text_atomic(path, text);
  const GaussianModel m = read_gaussian_ply(path);
  EXPECT_EQ(m.sh_degree, 0);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.means, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(m.log_scales, (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  EXPECT_EQ(m.rotations, (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(m.opacities, (std::vector<float>{0.5f, -0.5f}));
  EXPECT_EQ(m.sh, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}));
}

// Writes a vertex element with the given float properties (values i*0.01 + j).
std::string write_props(const std::string& path, const std::vector<std::string>& names, size_t n = 3,
                        float poison = 0.0f) {
  std::vector<float> values(n * names.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i) * 0.01f;
  if (poison != 0.0f) values[values.size() / 2] = poison;
  ply::ElementOut e{"vertex", n, {}};
  for (size_t j = 0; j < names.size(); ++j) e.columns.push_back(ply::Column::of(names[j], values.data() + j, names.size()));
  ply::write_ply(path, {e});
  return path;
}

std::vector<std::string> inria_names(int rest, int extras = 0) {
  std::vector<std::string> v = {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"};
  for (int i = 0; i < rest; ++i) v.push_back("f_rest_" + std::to_string(i));
  for (const char* s : {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"}) v.push_back(s);
  for (int i = 0; i < extras; ++i) v.push_back("f_extra_" + std::to_string(i));
  return v;
}

TEST(ModelPly, BadFilesGiveClearErrors) {
  const std::string dir = test::temp_dir("model-bad");
  EXPECT_EQ(read_gaussian_ply(write_props(dir + "/ok.ply", inria_names(24, 2))).sh_degree, 2);
  auto without = [&](const std::string& drop) {
    auto names = inria_names(9);
    names.erase(std::find(names.begin(), names.end(), drop));
    return write_props(dir + "/no_" + drop + ".ply", names);
  };
  expect_bad_input([&] { read_gaussian_ply(without("rot_3")); }, "element vertex has no property \"rot_3\"");
  expect_bad_input([&] { read_gaussian_ply(without("opacity")); }, "no property \"opacity\"");
  expect_bad_input([&] { read_gaussian_ply(without("f_dc_1")); }, "no property \"f_dc_1\"");
  expect_bad_input([&] { read_gaussian_ply(without("f_rest_4")); }, "f_rest_* are not numbered 0..7 (missing f_rest_4)");
  expect_bad_input([&] { read_gaussian_ply(write_props(dir + "/r10.ply", inria_names(10))); },
                   "10 f_rest properties; expected 0, 9, 24 or 45");
  auto gap = inria_names(0, 3);
  gap.back() = "f_extra_7";
  expect_bad_input([&] { read_gaussian_ply(write_props(dir + "/gap.ply", gap)); }, "missing f_extra_2");
  expect_bad_input([&] { read_gaussian_ply(write_props(dir + "/nan.ply", inria_names(0), 3, NAN)); }, "is not finite");
  expect_bad_input([&] { read_gaussian_ply(write_props(dir + "/inf.ply", inria_names(0), 3, INFINITY)); }, "is not finite");
  write_text_atomic(dir + "/empty.ply", "");
  expect_bad_input([&] { read_gaussian_ply(dir + "/empty.ply"); }, "not a PLY file");
  write_text_atomic(dir + "/mesh.ply", "ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int i\nend_header\n");
  expect_bad_input([&] { read_gaussian_ply(dir + "/mesh.ply"); }, "no \"vertex\" element");
  // Truncated in the data: the message says how much is there.
  const std::string full = slurp(dir + "/ok.ply");
  write_text_atomic(dir + "/cut.ply", full.substr(0, full.size() - 10));
  expect_bad_input([&] { read_gaussian_ply(dir + "/cut.ply"); }, "element vertex declares 3 rows of 172 bytes but the file ends after 2");
  expect_bad_input([&] { read_gaussian_ply(dir + "/absent.ply"); }, "no such file");
  // Writing a model with NaN is refused (Internal), leaving no file behind.
  GaussianModel bad = random_model(4, 1, 0, 5);
  bad.opacities[2] = NAN;
  try {
    write_gaussian_ply(dir + "/nan_out.ply", bad);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/nan_out.ply"));
}

// Mutates valid files (binary and ascii) thousands of times: every read must either give
// a valid model or a BadInput error; never a crash, a hang, another exception type, or
// a huge allocation.
TEST(ModelPly, MutatedFilesNeverCrash) {
  const std::string dir = test::temp_dir("model-fuzz");
  const GaussianModel m = random_model(20, 1, 2, 99);
  write_gaussian_ply(dir + "/seed.ply", m);
  std::vector<std::string> seeds = {slurp(dir + "/seed.ply")};
  {  // An ascii version of the same layout.
    std::string a = "ply\nformat ascii 1.0\nelement vertex 4\n";
    for (const std::string& s : inria_names(9, 1)) a += "property float " + s + "\n";
    a += "element face 2\nproperty list uchar int vertex_indices\nend_header\n";
    Rng r(1);
    for (int i = 0; i < 4; ++i) {
      for (size_t j = 0; j < inria_names(9, 1).size(); ++j) a += std::to_string(r.normal()) + " ";
      a += "\n";
    }
    a += "3 0 1 2\n3 1 2 3\n";
    seeds.push_back(a);
    write_text_atomic(dir + "/seed_ascii.ply", a);
    ASSERT_EQ(read_gaussian_ply(dir + "/seed_ascii.ply").size(), 4u);
  }
  Rng rng(20241123);
  const std::string path = dir + "/mutant.ply";
  int accepted = 0, rejected = 0;
  // SPARSPLAT_FUZZ_ITERATIONS raises the count for longer runs (e.g. under sanitizers).
  const char* env = std::getenv("SPARSPLAT_FUZZ_ITERATIONS");
  const int iterations = env && std::atoi(env) > 0 ? std::atoi(env) : 3000;
  for (int it = 0; it < iterations; ++it) {
    std::string s = seeds[size_t(it % 2)];
    const int edits = 1 + rng.index(4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = size_t(rng.index(int(s.size())));
      // Bias half of the edits into the header, where structure lives.
      const size_t header_end = std::min(s.size(), s.find("end_header") + 11);
      const size_t hat = size_t(rng.index(int(std::max<size_t>(1, header_end))));
      switch (rng.index(8)) {
        case 0: s[at] = char(rng.index(256)); break;                                 // random byte
        case 1: s[hat] = char(rng.index(256)); break;                                // random header byte
        case 2: s.resize(at); break;                                                 // truncate
        case 3: s.erase(at, size_t(1 + rng.index(16))); break;                       // delete a run
        case 4: s.insert(at, size_t(1 + rng.index(8)), char(rng.index(256))); break;  // insert a run
        case 5: s[hat] = "0123456789"[rng.index(10)]; break;                         // change a digit-ish
        case 6: {  // inflate a count
          const size_t p = s.find("vertex ");
          if (p != std::string::npos) s.insert(p + 7, std::to_string(rng.index(1000000)));
          break;
        }
        case 7: s[at] ^= char(1 << rng.index(8)); break;  // bit flip
      }
    }
    write_text_atomic(path, s);
    try {
      const GaussianModel got = read_gaussian_ply(path);
      got.validate("mutant");  // whatever is accepted must be a consistent, finite model
      ++accepted;
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::BadInput) << "iteration " << it << ": " << e.what();
      ++rejected;
    } catch (const std::exception& e) {
      FAIL() << "iteration " << it << ": unexpected exception " << e.what();
    }
  }
  EXPECT_EQ(accepted + rejected, iterations);
  EXPECT_GT(rejected, iterations / 2);
  std::printf("[ fuzz ] %d mutated PLYs: %d read as valid models, %d rejected with BadInput\n", iterations, accepted,
              rejected);

  // And the project's shared mutator (tests/support/fuzz.h): prefixes + its edit mix.
  for (size_t i = 0; i < seeds.size(); ++i) {
    test::FuzzOptions opt;
    opt.mutations = 1000;
    opt.seed = 7 + i;
    const auto stats = test::fuzz_parser(seeds[i], [&](const std::string& bytes) {
      write_text_atomic(path, bytes);
      read_gaussian_ply(path).validate("mutant");
    }, opt);
    std::printf("[ fuzz ] shared mutator, seed %zu: %zu inputs, %zu read, %zu rejected\n", i, stats.calls, stats.accepted,
                stats.rejected);
  }
}

}  // namespace
}  // namespace sp
