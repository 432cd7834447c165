// sparsplat submit (engine/pipeline/submission.h) end to end on a benchmark-shaped root the
// engine makes (two synthetic scenes at 96x72, the test images kept aside): submit -> --check
// -> --score agrees with `recon` on the same scene and settings; a run killed with SIGKILL at
// three random points (in each scene, around the archive) resumes to the same archive;
// shards merge to it too; --check names every kind of problem; bad input fails with one
// line, exit 2 and no archive.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/eval/lpips.h"
#include "engine/io/image_io.h"
#include "engine/io/spare.h"
#include "engine/io/zip_archive.h"
#include "engine/pipeline/submission.h"
#include "support/command_runner.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

const std::string kCli = std::string(SPARSPLAT_CLI) + " --threads 1";  // 1: no spinning against a busy CI core
constexpr const char* kTrain = " --iterations 30";  // the same short training everywhere

// A SpaRe-shaped root: <root>/<scene>/ with the three input images and every pos file, a
// Track-1-style split (3 input views, the 10 test views), and the test images and masks
// kept aside in <gt>/<scene>/; <full> is the complete synthetic output `recon` runs on.
struct Bench {
  std::string dir, full, root, gt, split;
  std::map<std::string, SpareSplit> entries;
};

Bench make_bench(const std::string& label) {
  Bench b;
  b.dir = test::temp_dir(label);
  b.full = b.dir + "/full";
  b.root = b.dir + "/root";
  b.gt = b.dir + "/gt";
  b.split = b.root + "/Track1_split_test.json";
  for (int arrangement : {1, 2}) {
    const auto r = test::run_command(kCli + " -q synth " + SPARSPLAT_SOURCE_DIR + "/scenes/demo.json -o " + b.full +
                                     " --resolution 96x72 --layout spare --supersampling 1 --lighting 3 --arrangement " +
                                     std::to_string(arrangement));
    EXPECT_EQ(r.code, 0) << r.output;
  }
  for (auto [scene, e] : read_spare_split(b.full + "/split.json")) {
    e.input_views.resize(3);
    b.entries[scene] = e;
    const fs::path src = fs::path(b.full) / scene, dst = fs::path(b.root) / scene, gt = fs::path(b.gt) / scene;
    fs::create_directories(dst);
    fs::create_directories(gt / "mask");
    for (const auto& f : fs::directory_iterator(src))
      if (f.path().extension() == ".txt") fs::copy_file(f.path(), dst / f.path().filename());
    for (int v : e.input_views) fs::copy_file(src / spare_image_name(v, 3), dst / spare_image_name(v, 3));
    for (int v : e.test_views) {
      fs::copy_file(src / spare_image_name(v, 3), gt / spare_image_name(v, 3));
      fs::copy_file(src / "mask" / spare_mask_name(v), gt / "mask" / spare_mask_name(v));
    }
  }
  write_text_atomic(b.split, encode_spare_split(b.entries));
  return b;
}

std::string submit(const Bench& b, const std::string& args) {
  return kCli + " submit " + b.root + " --split " + b.split + kTrain + " " + args;
}

int count_lines_starting(const std::string& text, const std::string& prefix) {
  int n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    if (text.compare(pos, prefix.size(), prefix) == 0) ++n;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return n;
}

// Starts `command` in the background (its own process, replaced by exec: killing the pid
// kills the command).
pid_t spawn(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

bool wait_for(const fs::path& p, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (fs::exists(p)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Submission, SubmitCheckScoreAgreeWithReconAndSurviveKillsAndShards) {
  const Bench b = make_bench("submit-e2e");
  const std::string weights = b.dir + "/lpips.bin";
  write_lpips_weights(weights, random_lpips_weights(1));  // stand-in weights: the code path, not the values

  // submit -> the archive (checked as it is written) -> --check -> --score.
  const std::string archive = b.dir + "/out/submission.zip";
  fs::create_directories(b.dir + "/out");
  auto r = test::run_command(submit(b, "-o " + archive));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("[1/2] demo_1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("all scenes: ETA"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("checked: OK"), std::string::npos) << r.output;
  {
    const ZipReader zip(archive);
    ASSERT_EQ(zip.entries().size(), 20u);
    EXPECT_EQ(zip.entries()[0].name, "demo_1/" + spare_image_name(b.entries.at("demo_1").test_views[0], 3));
  }
  r = test::run_command(kCli + " submit --check " + archive + " --split " + b.split + " --size 96x72");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 scenes, 20 images: OK"), std::string::npos) << r.output;
  // The benchmark's size is 1600x1200: these 96x72 renders are refused, one line each.
  r = test::run_command(kCli + " submit --check " + archive + " --split " + b.split);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines_starting(r.output, "error: "), 20) << r.output;
  const std::string scores = b.dir + "/scores.json";
  r = test::run_command(kCli + " submit --score " + archive + " --split " + b.split + " --gt " + b.gt + " --lpips " +
                        weights + " -o " + scores);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("LPIPS-M"), std::string::npos) << r.output;
  // No weights: one clear line.
  r = test::run_command(kCli + " submit --score " + archive + " --split " + b.split + " --gt " + b.gt);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("convert_lpips.py"), std::string::npos) << r.output;

  // recon on the complete scene with the same settings: the same pixels, and the same
  // scores through the same code (recon scores float renders; the archive holds 8-bit PNGs,
  // which moves PSNR by < 0.02 dB and SSIM by < 0.005 here).
  const std::string rec = b.dir + "/recon";
  r = test::run_command(kCli + " -q recon " + b.full + "/demo_1 --train-views 3 --resolution 400" + kTrain + " -o " + rec);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto got = nlohmann::json::parse(read_file(scores));
  const auto& views = got["scenes"]["demo_1"]["views"];
  const auto metrics = nlohmann::json::parse(read_file(rec + "/metrics.json"));
  ASSERT_EQ(views.size(), 10u);
  ASSERT_EQ(metrics["views"].size(), 10u);
  {
    const ZipReader zip(archive);
    for (size_t i = 0; i < 10; ++i) {
      const std::string name = metrics["views"][i]["name"];
      EXPECT_EQ(views[i]["name"], name);
      EXPECT_EQ(zip.read(i), read_file(rec + "/test/renders/" + name)) << name << ": PNG differs from recon's";
      EXPECT_NEAR(double(views[i]["psnr"]), double(metrics["views"][i]["psnr"]), 0.02) << name;
      EXPECT_NEAR(double(views[i]["masked_psnr"]), double(metrics["views"][i]["masked_psnr"]), 0.02) << name;
      EXPECT_NEAR(double(views[i]["ssim"]), double(metrics["views"][i]["ssim"]), 0.005) << name;
      EXPECT_NEAR(double(views[i]["masked_ssim"]), double(metrics["views"][i]["masked_ssim"]), 0.005) << name;
    }
  }
  // `eval` on recon's PNGs with the benchmark's metrics gives exactly --score's numbers.
  r = test::run_command(kCli + " eval " + rec + " --benchmark spare --masks " + b.full + "/demo_1/mask --lpips " +
                        weights + " -o " + rec + "/spare.json");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto eval = nlohmann::json::parse(read_file(rec + "/spare.json"));
  for (size_t i = 0; i < 10; ++i)
    for (const char* key : {"psnr", "ssim", "masked_psnr", "masked_ssim", "lpips", "box_ssim", "box_lpips"})
      EXPECT_EQ(double(eval["views"][i][key]), double(views[i][key])) << key << " of view " << i;

  // SIGKILL at three random moments - inside the first scene, inside the second (then a stray
  // half-written file too), and once both scenes are done, around the archive -
  // each followed by the same command; the last one finishes with the uninterrupted archive.
  const std::string resumed = b.dir + "/resumed.zip", work = b.dir + "/resumed.work";
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("random kill delays from seed " + std::to_string(seed));
  struct Point {
    fs::path ready;
    int max_delay_ms;
    const char* what;
  };
  const Point points[] = {{fs::path(work) / ".staging" / "demo_1", 150, "inside the first scene"},
                          {fs::path(work) / ".staging" / "demo_2", 100, "inside the second scene"},
                          {fs::path(work) / "demo_2" / "done.json", 0, "once both scenes are done (around the archive)"}};
  int killed = 0;
  for (size_t k = 0; k < 3; ++k) {
    const pid_t pid = spawn(submit(b, "-o " + resumed) + " > " + b.dir + "/killed" + std::to_string(k) + ".log 2>&1");
    const bool ready = wait_for(points[k].ready, 60);
    if (ready && points[k].max_delay_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, points[k].max_delay_ms)(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    killed += WIFSIGNALED(status);
    std::printf("kill %zu (%s): %s; done: demo_1 %s, demo_2 %s, archive %s\n", k + 1, points[k].what,
                WIFSIGNALED(status) ? "killed" : "ended first", fs::exists(fs::path(work) / "demo_1" / "done.json") ? "yes" : "no",
                fs::exists(fs::path(work) / "demo_2" / "done.json") ? "yes" : "no", fs::exists(resumed) ? "yes" : "no");
    if (k == 1 && !fs::exists(fs::path(work) / "demo_2" / "done.json")) {
      fs::create_directories(fs::path(work) / "demo_2.partial");
      write_text_atomic(work + "/demo_2.partial/" + spare_image_name(b.entries.at("demo_2").test_views[0], 3), "half");
    }
  }
  EXPECT_GE(killed, 2) << "the scenes take seconds: the first two kills land inside them";
  r = test::run_command(submit(b, "-o " + resumed));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("demo_1: finished by an earlier run"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(fs::path(work) / "demo_2.partial"));
  EXPECT_EQ(read_file(resumed), read_file(archive)) << "resumed archive differs from the uninterrupted one";
  for (const auto& e : fs::recursive_directory_iterator(work))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();

  // Shards (reusing the finished work folder), each checked on its own, merged: the same
  // archive again. Changed settings are not reused.
  const std::string work_dir = b.dir + "/out/submission.work";
  for (int i : {1, 2}) {
    const std::string part = b.dir + "/part" + std::to_string(i) + ".zip";
    r = test::run_command(submit(b, "--shard " + std::to_string(i) + "/2 --work " + work_dir + " -o " + part));
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("scenes: 1 (0 reconstructed, 1 reused)"), std::string::npos) << r.output;
    r = test::run_command(kCli + " submit --check " + part + " --split " + b.split + " --size 96x72 --shard " +
                          std::to_string(i) + "/2");
    EXPECT_EQ(r.code, 0) << r.output;
  }
  r = test::run_command(kCli + " submit --merge " + b.dir + "/part1.zip " + b.dir + "/part2.zip --split " + b.split +
                        " --size 96x72 -o " + b.dir + "/merged.zip");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_file(b.dir + "/merged.zip"), read_file(archive));
  // A merge that misses a shard is refused and writes nothing.
  r = test::run_command(kCli + " submit --merge " + b.dir + "/part1.zip --split " + b.split + " --size 96x72 -o " +
                        b.dir + "/half.zip");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("demo_2/: missing"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(b.dir + "/half.zip"));
}

// An archive with every kind of problem, each reported on its own line.
TEST(Submission, CheckNamesEveryProblem) {
  const std::string dir = test::temp_dir("submit-check");
  std::map<std::string, SpareSplit> split;
  split["scan63"] = {{22, 25}, {13, 14, 15, 16}, "DTU"};
  split["Amplifier"] = {{1, 2}, {5, 6, 7}, "SpaRe"};
  const std::string split_file = dir + "/split.json";
  write_text_atomic(split_file, encode_spare_split(split));
  const auto png = [&](int w, int h) {
    save_png(dir + "/tmp.png", Image(w, h, 3, 0.5f));
    return read_file(dir + "/tmp.png");
  };
  {
    ZipWriter good(dir + "/good.zip");
    for (int v : {13, 14, 15, 16}) good.add_bytes("scan63/" + submission_image_name(SceneNaming::Dtu, v), png(64, 48));
    for (int v : {5, 6, 7}) good.add_bytes("Amplifier/" + submission_image_name(SceneNaming::Synthetic, v), png(64, 48));
    good.commit();
  }
  const std::string check = kCli + " submit --check ";
  const std::string opts = " --split " + split_file + " --size 64x48";
  auto r = test::run_command(check + dir + "/good.zip" + opts);
  EXPECT_EQ(r.code, 0) << r.output;

  ZipWriter bad(dir + "/bad.zip");
  bad.add_bytes("scan63/rect_014_3_r5000.png", png(64, 48));                      // fine
  bad.add_bytes("scan63/cam_015_3_0000.png", png(64, 48));                        // wrong name (DTU scene)
  bad.add_bytes("scan63/rect_016_3_r5000.png", png(32, 24));                      // wrong size
  bad.add_bytes("scan63/rect_017_3_r5000.png", png(64, 48).substr(0, 100));       // unreadable PNG
  bad.add_bytes("scan63/rect_001_3_r5000.png", png(64, 48));                      // not a test view
  bad.add_bytes("scan63/notes.txt", "hello");                                     // extra file
  bad.add_bytes("Amplifier/cam_006_3_0000.png", png(64, 48));                     // fine; cam_008 missing
  bad.add_bytes("Amplifier/cam_007_0_0000.png", png(64, 48));                     // wrong lighting
  bad.add_bytes("Amplifier/sub/cam_006_3_0000.png", png(64, 48));                 // nested
  bad.add_bytes("scan99/rect_001_3_r5000.png", png(64, 48));                      // not a scene
  bad.add_bytes("readme.txt", "x");                                               // at the root
  bad.commit();
  r = test::run_command(check + dir + "/bad.zip" + opts);
  EXPECT_EQ(r.code, 2);
  for (const char* line : {"scan63/cam_015_3_0000.png: wrong name (expected rect_015_3_r5000.png)",
                           "scan63/rect_016_3_r5000.png: 32x24, expected 64x48", "scan63/rect_017_3_r5000.png: unreadable PNG",
                           "scan63/rect_001_3_r5000.png: extra image", "scan63/notes.txt: extra file",
                           "Amplifier/cam_007_0_0000.png: wrong name (expected cam_007_3_0000.png)",
                           "Amplifier/sub/cam_006_3_0000.png: nested file", "scan99/: extra folder",
                           "readme.txt: file at the archive root", "Amplifier/cam_008_3_0000.png: missing"})
    EXPECT_NE(r.output.find(line), std::string::npos) << "no line '" << line << "' in\n" << r.output;
  EXPECT_EQ(count_lines_starting(r.output, "error: "), 10) << r.output;

  // Everything inside a parent folder: one line saying so, and the scenes missing.
  ZipWriter wrapped(dir + "/wrapped.zip");
  for (int v : {13, 14, 15, 16}) wrapped.add_bytes("results/scan63/" + submission_image_name(SceneNaming::Dtu, v), png(64, 48));
  wrapped.commit();
  r = test::run_command(check + dir + "/wrapped.zip" + opts);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("results/: scene folders inside a parent folder"), std::string::npos) << r.output;
  // A damaged entry (one byte of its stored data flipped): the CRC check names it.
  std::string damaged = read_file(dir + "/good.zip");
  damaged[damaged.find("IDAT") + 8] ^= 0x55;
  write_text_atomic(dir + "/damaged.zip", damaged);
  r = test::run_command(check + dir + "/damaged.zip" + opts);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("scan63/rect_014_3_r5000.png: unreadable ("), std::string::npos) << r.output;
  EXPECT_EQ(count_lines_starting(r.output, "error: "), 1) << r.output;
  write_text_atomic(dir + "/not.zip", "not a zip");
  r = test::run_command(check + dir + "/not.zip" + opts);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines_starting(r.output, "error: "), 1) << r.output;
}

// Bad input: one `error:` line, exit 2, no archive; a full disk (RLIMIT_FSIZE: writes past
// the limit fail with EFBIG, as on a full disk) while writing the renders or the archive.
TEST(Submission, BadInputFailsWithOneLineAndNoArchive) {
  const Bench b = make_bench("submit-bad");
  const auto expect_refused = [&](const std::string& cmd, const std::string& needle, const std::string& archive) {
    const auto r = test::run_command(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.output;
    EXPECT_EQ(count_lines_starting(r.output, "error: "), 1) << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << "expected '" << needle << "' in\n" << r.output;
    EXPECT_FALSE(fs::exists(archive)) << archive;
    for (const auto& f : fs::directory_iterator(fs::path(archive).parent_path()))  // nor a temporary of it
      EXPECT_NE(f.path().filename().string().rfind("s.zip", 0), 0u) << "left behind: " << f.path();
  };
  const auto with_split = [&](const std::string& name, const std::map<std::string, SpareSplit>& entries) {
    const std::string path = b.dir + "/" + name + ".json";
    write_text_atomic(path, encode_spare_split(entries));
    return path;
  };
  const std::string out = b.dir + "/bad";
  fs::create_directories(out);
  const std::string archive = out + "/s.zip";
  const auto run = [&](const std::string& split, const std::string& extra = "") {
    return kCli + " submit " + b.root + " --split " + split + kTrain + " -o " + archive + extra;
  };

  auto entries = b.entries;
  entries["missing_scene"] = entries.at("demo_1");
  expect_refused(run(with_split("missing-scene", entries)), "no such scene folder", archive);
  entries = b.entries;
  entries.at("demo_1").input_views[2] = 47;  // no image for view 47 in the root
  expect_refused(run(with_split("missing-view", entries)), "input view 47", archive);
  entries = b.entries;
  entries.at("demo_2").test_views.push_back(60);  // no pos_061.txt
  expect_refused(run(with_split("missing-camera", entries)), "no pos_061.txt", archive);

  const int input = b.entries.at("demo_2").input_views[0];
  const std::string pos = b.root + "/demo_2/" + spare_pos_name(input);
  const std::string pos_text = read_file(pos);
  write_text_atomic(pos, "1 2 3 not a matrix");
  expect_refused(run(b.split), spare_pos_name(input), archive);
  write_text_atomic(pos, pos_text);
  const std::string image = b.root + "/demo_2/" + spare_image_name(input, 3);
  const std::string png = read_file(image);
  write_text_atomic(image, png.substr(0, png.size() / 2));  // header intact, data cut
  expect_refused(run(b.split), spare_image_name(input, 3), archive);
  write_text_atomic(image, png);

  // A full disk while the renders are written (files over 8 KiB fail) ...
  const auto limited = [&](int kib, const std::string& cmd) {
    return "bash -c \"trap '' XFSZ; ulimit -f " + std::to_string(kib) + "; exec " + cmd + "\"";
  };
  expect_refused(limited(8, run(b.split, " --scenes demo_1")), "write failed", archive);
  // ... and while the archive is written (the renders of a finished run fit, the archive not).
  auto r = test::run_command(run(b.split, " --scenes demo_1 --work " + out + "/s.work"));
  ASSERT_EQ(r.code, 0) << r.output;
  fs::remove(archive);
  expect_refused(limited(64, run(b.split, " --scenes demo_1 --work " + out + "/s.work")), "cannot write the archive",
                 archive);

  // Not bad input: a DTU-derived scene (rect_ inputs) gets rect_ names in the archive.
  const auto e = b.entries.at("demo_1");
  for (int v : e.input_views)
    fs::rename(b.root + "/demo_1/" + spare_image_name(v, 3), b.root + "/demo_1/" + submission_image_name(SceneNaming::Dtu, v));
  entries = {{"demo_1", e}};
  entries.at("demo_1").dataset = "DTU";
  r = test::run_command(run(with_split("dtu", entries)));
  ASSERT_EQ(r.code, 0) << r.output;
  const ZipReader zip(archive);
  ASSERT_EQ(zip.entries().size(), e.test_views.size());
  for (const ZipEntry& z : zip.entries()) EXPECT_EQ(z.name.rfind("demo_1/rect_", 0), 0u) << z.name;
}

}  // namespace
}  // namespace sp
