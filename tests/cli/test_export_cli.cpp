// `sparsplat export` end to end (docs/export.md): each format written from a PLY, summarized
// by `info`, rendered by `render` close to the PLY's render and read back by `export`; bad
// input (unknown extension, truncated or foreign files, absurd counts): one error line,
// exit code 2 and no output file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/eval/metrics.h"
#include "engine/io/cameras_json.h"
#include "engine/io/gaussian_ply.h"
#include "engine/io/image_io.h"
#include "render/render_test_scene.h"
#include "cli/cli_test_util.h"
#include "support/command_runner.h"
#include "support/gzip.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {

using Result = sp::test::CommandResult;

using sp::test::gzip_bytes;
using sp::test::run_cli;

void expect_bad_input(const std::string& args, const std::string& needle, const std::string& output = "") {
  sp::test::expect_cli_bad_input(args, needle, output);
}

void expect_no_temporaries(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

// The rendered PNG of the one camera in `dir`.
sp::Image rendered(const std::string& dir) { return sp::load_image(dir + "/view.png", 3); }

// A degree-3 model of 500 Gaussians over a 96x72 view and that view's cameras.json.
struct Scene {
  std::string dir, ply, cameras;
};
const Scene& scene() {
  static const Scene s = [] {
    Scene out;
    out.dir = sp::test::temp_dir("cli-export");
    sp::test::TestScene t = sp::test::random_scene(7, 500, 96, 72, 3, 0);
    t.camera.name = "view.png";
    out.ply = out.dir + "/m.ply";
    out.cameras = out.dir + "/cameras.json";
    sp::write_gaussian_ply(out.ply, t.model);
    sp::write_cameras_json(out.cameras, {t.camera});
    return out;
  }();
  return s;
}

TEST(CliExport, EveryFormatRendersAndSummarizesLikeThePly) {
  const Scene& s = scene();
  ASSERT_EQ(run_cli("render " + s.ply + " --cameras " + s.cameras + " --device cpu -o " + s.dir + "/r_ply").code, 0);
  ASSERT_EQ(run_cli("render " + s.ply + " --cameras " + s.cameras + " --device cpu --sh-degree 0 -o " + s.dir + "/r_ply0").code, 0);
  const sp::Image full = rendered(s.dir + "/r_ply"), dc_only = rendered(s.dir + "/r_ply0");
  struct Case {
    std::string file, options, format;
    int degree;
    double min_psnr;
  };
  // PSNR of the PNG renders against the PLY's (8-bit PNGs both); measured: .splat 46.2,
  // .spz v3 36.1, v2 36.1 (this scene's SH is large: 4-bit SH steps dominate), compressed PLY 46.2 dB.
  const Case cases[] = {{"m.splat", "", "format: .splat", 0, 42.0},
                        {"m.spz", "", "format: SPZ, version 3", 3, 34.0},
                        {"m2.spz", "--spz-version 2", "format: SPZ, version 2", 3, 34.0},
                        {"m.compressed.ply", "", "format: compressed PLY", 3, 42.0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = s.dir + "/" + c.file;
    const Result ex = run_cli("export " + s.ply + " -o " + path + " " + c.options);
    ASSERT_EQ(ex.code, 0) << ex.output;
    EXPECT_NE(ex.output.find("exported 500 Gaussians (SH degree " + std::to_string(c.degree) + ")"), std::string::npos)
        << ex.output;
    if (c.degree == 0) {
      EXPECT_NE(ex.output.find("warning: .splat keeps only the base colour"), std::string::npos) << ex.output;
    }
    const Result info = run_cli("info " + path);
    ASSERT_EQ(info.code, 0) << info.output;
    for (const std::string& want : {std::string("Gaussians: 500"), c.format, "SH degree: " + std::to_string(c.degree)})
      EXPECT_NE(info.output.find(want), std::string::npos) << want << "\n" << info.output;
    const std::string out = s.dir + "/r_" + c.file;
    const Result rd = run_cli("render " + path + " --cameras " + s.cameras + " --device cpu -o " + out);
    ASSERT_EQ(rd.code, 0) << rd.output;
    const double p = sp::psnr(rendered(out), c.degree == 0 ? dc_only : full);
    std::printf("[cli export] %-17s %7ju bytes, render PSNR vs the PLY's %.2f dB\n", c.file.c_str(),
                uintmax_t(fs::file_size(path)), p);
    EXPECT_GE(p, c.min_psnr);
  }
  // Back to INRIA PLY (from .spz), and fewer SH degrees on the way out.
  const Result back = run_cli("export " + s.dir + "/m.spz -o " + s.dir + "/back/m.ply");
  ASSERT_EQ(back.code, 0) << back.output;
  EXPECT_EQ(sp::read_gaussian_ply(s.dir + "/back/m.ply").size(), 500u);
  ASSERT_EQ(run_cli("export " + s.ply + " -o " + s.dir + "/d1.spz --sh-degree 1").code, 0);
  EXPECT_NE(run_cli("info " + s.dir + "/d1.spz").output.find("SH degree: 1"), std::string::npos);
  EXPECT_LT(fs::file_size(s.dir + "/d1.spz"), fs::file_size(s.dir + "/m.spz"));
  EXPECT_EQ(fs::file_size(s.dir + "/m.splat"), 500u * 32);
  expect_no_temporaries(s.dir);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(CliExport, BadInputGivesOneLineExitTwoAndNoFile) {
  const Scene& s = scene();
  const std::string dir = sp::test::temp_dir("cli-export-bad");
  expect_bad_input("export " + s.ply + " -o " + dir + "/out.xyz", "unknown export format '.xyz'", dir + "/out.xyz");
  expect_bad_input("export " + s.ply + " -o " + dir + "/out", "unknown export format '(no extension)'", dir + "/out");
  expect_bad_input("export " + s.ply + " -o " + dir + "/out.splat --spz-version 2", "--spz-version", dir + "/out.splat");
  expect_bad_input("export " + s.ply + " -o " + dir + "/out.spz --spz-version 4", "spz-version", dir + "/out.spz");
  expect_bad_input("export " + dir + "/none.ply -o " + dir + "/out.spz", "no such file", dir + "/out.spz");

  // A truncated .spz: export, render and info refuse it.
  ASSERT_EQ(run_cli("export " + s.ply + " -o " + dir + "/m.spz").code, 0);
  std::ifstream in(dir + "/m.spz", std::ios::binary);
  const std::string spz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_file(dir + "/cut.spz", spz.substr(0, spz.size() / 2));
  expect_bad_input("export " + dir + "/cut.spz -o " + dir + "/cut.ply", "cut.spz", dir + "/cut.ply");
  expect_bad_input("render " + dir + "/cut.spz --cameras " + s.cameras + " -o " + dir + "/r", "truncated", dir + "/r");
  expect_bad_input("info " + dir + "/cut.spz", "truncated");
  // A truncated .splat.
  write_file(dir + "/cut.splat", std::string(33, '\0'));
  expect_bad_input("info " + dir + "/cut.splat", "not a whole number of 32-byte Gaussians");
  // Wrong magic: not gzip at all, and gzip of something else.
  write_file(dir + "/text.spz", "just some text");
  expect_bad_input("export " + dir + "/text.spz -o " + dir + "/t.splat", "gzip header", dir + "/t.splat");
  write_file(dir + "/other.spz", gzip_bytes(std::string("XXXX") + std::string(60, '\0')));
  expect_bad_input("info " + dir + "/other.spz", "wrong magic");
  // An absurd numPoints (4e9 Gaussians in a 100-byte stream): refused before allocating.
  std::string header = "NGSP";
  header += std::string("\x03\x00\x00\x00", 4) + std::string("\x00\x28\x6b\xee", 4) + std::string("\x03\x0c\x00\x00", 4);
  write_file(dir + "/absurd.spz", gzip_bytes(header + std::string(64, '\0')));
  expect_bad_input("render " + dir + "/absurd.spz --cameras " + s.cameras + " -o " + dir + "/r", "numPoints 4000000000", dir + "/r");
  // SH degree beyond the model's; an unknown input format.
  ASSERT_EQ(run_cli("export " + s.ply + " -o " + dir + "/d0.spz --sh-degree 0").code, 0);
  expect_bad_input("export " + dir + "/d0.spz -o " + dir + "/d3.spz --sh-degree 3", "stores degree 0", dir + "/d3.spz");
  write_file(dir + "/model.xyz", "something else");
  expect_bad_input("info " + dir + "/model.xyz", "unknown Gaussian model format");
  expect_no_temporaries(dir);
}

}  // namespace
