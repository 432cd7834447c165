#include "engine/pipeline/submission.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/core/atomic_file.h"
#include "engine/core/error.h"
#include "engine/core/hash.h"
#include "engine/core/parallel.h"
#include "engine/eval/lpips.h"
#include "engine/io/image_header.h"
#include "engine/io/image_io.h"
#include "engine/io/zip_archive.h"
#include "engine/pipeline/devices.h"

namespace sp {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string three_digits(int n) {
  char b[16];
  std::snprintf(b, sizeof b, "%03d", n);
  return b;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* naming_text(SceneNaming n) {
  return n == SceneNaming::Dtu ? "dtu" : n == SceneNaming::Synthetic ? "synthetic" : "unknown";
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double mean(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  return v.empty() ? -1.0 : m / double(v.size());
}

// Scenes sorted by name (the split's map order) with their entries.
const SpareSplit& entry_of(const std::map<std::string, SpareSplit>& split, const std::string& scene) {
  const auto it = split.find(scene);
  if (it == split.end()) throw_internal("scene '" + scene + "' is not in the split");
  return it->second;
}

// RGB float image from file bytes: RGBA composited on black, grey expanded (as `eval`).
Image to_rgb(Image img, std::string_view bytes, const std::string& where) {
  if (img.channels == 3) return img;
  if (img.channels == 4) return composite_rgba(img, 0, 0, 0);
  return decode_image(bytes, where, 3);
}

}  // namespace

std::string submission_image_name(SceneNaming naming, int view) {
  if (naming == SceneNaming::Dtu) return "rect_" + three_digits(view + 1) + "_" + std::to_string(kSubmissionLighting) + "_r5000.png";
  if (naming == SceneNaming::Synthetic) return spare_image_name(view, kSubmissionLighting);
  throw_internal("submission_image_name: unknown naming");
}

SceneNaming naming_of_dataset(const std::string& dataset) {
  const std::string d = lower(dataset);
  if (d.find("dtu") != std::string::npos) return SceneNaming::Dtu;
  if (d.find("synth") != std::string::npos || d.find("spare") != std::string::npos) return SceneNaming::Synthetic;
  return SceneNaming::Unknown;
}

void parse_shard(const std::string& text, SceneSelection& selection) {
  const size_t slash = text.find('/');
  int i = 0, n = 0;
  char tail = 0;
  if (slash == std::string::npos || std::sscanf(text.c_str(), "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 1 || i > n)
    throw_bad_input("--shard", "expected I/N with 1 <= I <= N (e.g. 2/8), found '" + text + "'");
  selection.shard = i;
  selection.shards = n;
}

std::vector<std::string> select_scenes(const std::map<std::string, SpareSplit>& split, const SceneSelection& selection,
                                       const std::string& split_file) {
  std::vector<std::string> names;
  if (selection.scenes.empty()) {
    for (const auto& [name, entry] : split) names.push_back(name);
  } else {
    std::set<std::string> seen;
    for (const std::string& s : selection.scenes) {
      if (!split.count(s)) throw_bad_input(split_file, "has no scene '" + s + "' (given with --scenes)");
      if (seen.insert(s).second) names.push_back(s);
    }
    std::sort(names.begin(), names.end());
  }
  if (selection.shards > 0) {
    std::vector<std::string> mine;
    for (size_t k = 0; k < names.size(); ++k)
      if (int(k % size_t(selection.shards)) == selection.shard - 1) mine.push_back(names[k]);
    if (mine.empty())
      throw_bad_input("--shard", "shard " + std::to_string(selection.shard) + "/" + std::to_string(selection.shards) +
                                     " has no scene (" + std::to_string(names.size()) + " scenes selected)");
    names = std::move(mine);
  }
  if (names.empty()) throw_bad_input(split_file, "names no scene");
  return names;
}

std::string CheckProblem::line() const {
  if (scene.empty()) return entry + ": " + what;
  if (entry.empty()) return scene + "/: " + what;
  return scene + "/" + entry + ": " + what;
}

// ---- inputs of a scene ----

namespace {

struct SceneInputs {
  std::string name, dir, dataset;
  std::vector<int> train;                   // the first N input views, ascending
  std::vector<int> test;                    // ascending
  SceneNaming naming = SceneNaming::Unknown;
  std::map<int, std::string> image;         // train view -> lighting-3 image file
  std::map<int, std::string> pos;           // train and test view -> pos_XXX.txt
  std::map<int, DecomposedProjection> projection;
  int width = 0, height = 0;                // size of the input images
  uint64_t content = 0;                     // FNV-1a of the input images' and pos files' bytes
};

// Where a scene's pos_XXX.txt files are: the scene folder (or its Cameras/, cameras/), else
// the calibration folder's <scene>/ (or its Cameras/, cameras/), else the calibration folder.
std::string find_pos_file(const SubmissionConfig& c, const std::string& scene, int view) {
  std::vector<fs::path> bases = {fs::path(c.data_root) / scene};
  if (!c.calibration.empty()) {
    bases.push_back(fs::path(c.calibration) / scene);
    bases.push_back(fs::path(c.calibration));
  }
  for (const fs::path& base : bases)
    for (const fs::path& d : {base, base / "Cameras", base / "cameras"})
      if (is_file(d / spare_pos_name(view))) return (d / spare_pos_name(view)).string();
  return {};
}

SceneInputs scene_inputs(const SubmissionConfig& c, const std::string& scene, const SpareSplit& entry) {
  SceneInputs s;
  s.name = scene;
  s.dir = (fs::path(c.data_root) / scene).string();
  s.dataset = entry.dataset;
  const std::string where = c.split_file + ": scene '" + scene + "'";
  std::error_code ec;
  if (!fs::is_directory(s.dir, ec)) throw_bad_input(s.dir, "no such scene folder (" + where + ")");
  const size_t n = c.views > 0 ? size_t(c.views) : entry.input_views.size();
  if (entry.input_views.empty()) throw_bad_input(where, "has no input views");
  if (n > entry.input_views.size())
    throw_bad_input(where, "has " + std::to_string(entry.input_views.size()) + " input views; --views " +
                               std::to_string(c.views) + " asks for more");
  s.train.assign(entry.input_views.begin(), entry.input_views.begin() + long(n));
  std::sort(s.train.begin(), s.train.end());
  s.test = entry.test_views;
  std::sort(s.test.begin(), s.test.end());
  if (s.test.empty()) throw_bad_input(where, "has no test views");
  for (size_t k = 1; k < s.train.size(); ++k)
    if (s.train[k] == s.train[k - 1]) throw_bad_input(where, "lists input view " + std::to_string(s.train[k]) + " twice");
  for (size_t k = 1; k < s.test.size(); ++k)
    if (s.test[k] == s.test[k - 1]) throw_bad_input(where, "lists test view " + std::to_string(s.test[k]) + " twice");
  for (int v : s.test)
    if (std::binary_search(s.train.begin(), s.train.end(), v))
      throw_bad_input(where, "view " + std::to_string(v) + " is both an input and a test view");

  // Input images (lighting 3) and their naming.
  for (int v : s.train) {
    const fs::path cam = fs::path(s.dir) / submission_image_name(SceneNaming::Synthetic, v);
    const fs::path rect = fs::path(s.dir) / submission_image_name(SceneNaming::Dtu, v);
    SceneNaming found = SceneNaming::Unknown;
    if (is_file(cam)) found = SceneNaming::Synthetic;
    else if (is_file(rect)) found = SceneNaming::Dtu;
    else
      throw_bad_input(s.dir, "input view " + std::to_string(v) + " (" + where + "): neither " + cam.filename().string() +
                                 " nor " + rect.filename().string() + " exists");
    if (s.naming != SceneNaming::Unknown && found != s.naming)
      throw_bad_input(s.dir, "mixes cam_XXX_3_0000.png and rect_XXX_3_r5000.png input images");
    s.naming = found;
    s.image[v] = (found == SceneNaming::Synthetic ? cam : rect).string();
  }
  const SceneNaming by_dataset = naming_of_dataset(entry.dataset);
  if (by_dataset != SceneNaming::Unknown && by_dataset != s.naming)
    log_warn(s.dir + ": the split file says dataset '" + entry.dataset + "' but the input images are named like " +
             naming_text(s.naming) + " scenes; the test views get the input images' naming");

  // Cameras of the input and test views.
  for (const auto* list : {&s.train, &s.test})
    for (int v : *list) {
      const std::string p = find_pos_file(c, scene, v);
      if (p.empty())
        throw_bad_input(s.dir, "no " + spare_pos_name(v) + " for view " + std::to_string(v) + " (" + where +
                                   (c.calibration.empty() ? "; give the calibration folder with --calibration" : "; not in " + c.calibration) +
                                   ")");
      s.pos[v] = p;
      s.projection[v] = decompose_projection(read_projection_matrix(p), p);
    }
  return s;
}

// Decodes every input image (a corrupt file fails now, not hours into the run), fixes the
// scene's input size and fingerprints its input files.
void check_input_images(SceneInputs& s) {
  for (const auto& [v, path] : s.image) {
    const ImageInfo info = read_image_header(path);
    if (s.width == 0) {
      s.width = info.width;
      s.height = info.height;
    } else if (info.width != s.width || info.height != s.height) {
      throw_bad_input(path, std::to_string(info.width) + "x" + std::to_string(info.height) +
                                ", but the scene's other input images are " + std::to_string(s.width) + "x" +
                                std::to_string(s.height));
    }
    const std::string bytes = read_file(path);
    (void)decode_image(bytes, path);
    s.content = fnv1a(s.content, bytes);
  }
  for (const auto& [v, path] : s.pos) s.content = fnv1a(s.content, read_file(path));
}

// What a finished scene was made with; a re-run reuses the scene only when this is equal.
nlohmann::ordered_json scene_settings(const SubmissionConfig& c, const SceneInputs& s, int width, int height) {
  nlohmann::ordered_json j;
  j["format"] = 1;
  j["scene"] = s.name;
  j["train_views"] = s.train;
  j["test_views"] = s.test;
  j["naming"] = naming_text(s.naming);
  j["size"] = {width, height};
  j["threads"] = thread_count();
  char content[32];
  std::snprintf(content, sizeof content, "%016llx", static_cast<unsigned long long>(s.content));
  j["inputs_fnv1a"] = content;
  j["settings"] = c.settings;
  return j;
}

bool finished_with(const fs::path& dir, const nlohmann::ordered_json& settings) {
  const fs::path done = dir / "done.json";
  if (!is_file(done)) return false;
  try {
    const auto j = nlohmann::ordered_json::parse(read_file(done.string()));
    if (j.value("settings", nlohmann::ordered_json()) != settings) return false;
    for (const auto& name : j.at("images"))
      if (!is_file(dir / name.get<std::string>())) return false;
    return true;
  } catch (const std::exception&) {
    return false;  // unreadable: redo the scene
  }
}

// The scene's train views as a SpaRe scene of their own (view k = the k-th train view), so
// Dataset::load reads them as `recon` would read the whole scene; the test views, whose
// images the benchmark does not give, stay out of it.
std::string stage_train_views(const SceneInputs& s, const fs::path& staging) {
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging);
  SpareSplit split;
  split.dataset = s.dataset;
  for (size_t k = 0; k < s.train.size(); ++k) {
    const int v = s.train[k];
    const fs::path dst = staging / submission_image_name(s.naming, int(k));
    fs::create_hard_link(s.image.at(v), dst, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(s.image.at(v), dst, fs::copy_options::overwrite_existing, ec);
      if (ec) throw_bad_input(dst.string(), "cannot stage the input image " + s.image.at(v) + " (" + ec.message() + ")");
    }
    write_text_atomic((staging / spare_pos_name(int(k))).string(), read_file(s.pos.at(v)));
    split.input_views.push_back(int(k));
  }
  write_text_atomic((staging / "split.json").string(), encode_spare_split({{s.name, split}}));
  return staging.string();
}

// Feeds one scene's reconstruction into the submission's progress, with the run's ETA.
class SceneProgress final : public ReconObserver {
 public:
  SceneProgress(SubmissionObserver& out, long units, int remaining_after, const std::vector<double>& finished)
      : out_(out), units_(units), remaining_after_(remaining_after), finished_(finished), start_(Clock::now()) {}

  void stage_started(ReconStage stage, const std::string&, long) override { report(done_, stage_name(stage)); }
  void progress(ReconStage stage, long done, const std::string& detail) override {
    if (stage == ReconStage::Train) report(done, std::string("train ") + detail);
  }
  void log(LogSeverity severity, const std::string& message) override { out_.log(severity, message); }

  void report(long done, const std::string& detail) {
    done_ = done;
    out_.scene_progress(done, detail, eta());
  }
  // Remaining seconds of the whole run: this scene's projection from its own pace, the
  // others at the mean of the scenes finished in this run (or this scene's projection).
  double eta() const {
    const double elapsed = seconds_since(start_);
    const double fraction = units_ > 0 ? double(done_) / double(units_) : 0.0;
    const double finished_mean = mean(finished_);
    const double projected = fraction > 0.02 ? elapsed / fraction : finished_mean;
    if (projected < 0) return -1;
    const double per_scene = finished_mean >= 0 ? finished_mean : projected;
    return std::max(0.0, projected - elapsed) + per_scene * remaining_after_;
  }
  double elapsed() const { return seconds_since(start_); }

 private:
  SubmissionObserver& out_;
  long units_;
  int remaining_after_;
  const std::vector<double>& finished_;
  Clock::time_point start_;
  long done_ = 0;
};

}  // namespace

// ---- making a submission ----

namespace {

// One scene's part of a run: the settings it is made with and whether it is done already.
struct ScenePlan {
  nlohmann::ordered_json settings;
  int width = 0, height = 0;  // output size
  bool reuse = false;
};

SceneReport reused_scene(const SceneInputs& s, const fs::path& dir) {
  const auto done = nlohmann::ordered_json::parse(read_file((dir / "done.json").string()));
  SceneReport report;
  report.scene = s.name;
  report.images = int(s.test.size());
  report.reused = true;
  report.iterations = done.value("iterations", 0L);
  report.gaussians = done.value("gaussians", size_t(0));
  report.device = done.value("device", std::string());
  report.init = done.value("init", std::string());
  return report;
}

// Reconstructs the scene from its staged train views, renders its test views into
// <work>/<scene>.partial/ and renames that to <work>/<scene>/ once done.json is written.
SceneReport reconstruct_scene(const SubmissionConfig& c, const SceneInputs& s, const ScenePlan& plan, long iterations,
                              const fs::path& work, SceneProgress& progress) {
  std::error_code ec;
  const fs::path dir = work / s.name, partial = work / (s.name + ".partial"), staging = work / ".staging" / s.name;
  fs::remove_all(partial, ec);
  DatasetOptions dopt = c.dataset;
  dopt.train_views = int(s.train.size());
  dopt.train_ids.clear();
  dopt.test_ids.clear();
  dopt.protocol = "auto";
  const Dataset data = Dataset::load(stage_train_views(s, staging), dopt);
  ReconConfig rc = c.recon;
  rc.output.clear();  // an in-memory run: only the renders below are kept
  rc.test_views = false;
  rc.checkpoint_interval = 0;
  const ReconResult r = run_recon(data, rc, progress);

  // Test views at the output size: the pos files' cameras at the input images' size, scaled.
  fs::create_directories(partial);
  const std::string device = r.device.rfind("cuda", 0) == 0 ? "cuda" : "cpu";
  auto rasterizer = make_rasterizer(device);
  RenderOptions ro;
  ro.background = rc.background ? *rc.background : glm::vec3(0.0f);  // run_recon's default for SpaRe scenes
  ro.sh_degree = r.sh_degree;
  const GaussianParams params = params_of(r.model);
  nlohmann::ordered_json images = nlohmann::json::array();
  long done = iterations;
  for (int v : s.test) {
    const std::string name = submission_image_name(s.naming, v);
    const Camera cam =
        camera_from_projection(s.projection.at(v), name, s.width, s.height, s.pos.at(v)).resized(plan.width, plan.height);
    save_png((partial / name).string(), rasterizer->forward(cam, params, ro).color);
    images.push_back(name);
    progress.report(++done, "render " + name);
  }
  SceneReport report;
  report.scene = s.name;
  report.images = int(s.test.size());
  report.seconds = progress.elapsed();
  report.iterations = r.iterations;
  report.gaussians = r.model.size();
  report.device = r.device;
  report.init = r.init;
  nlohmann::ordered_json done_json;
  done_json["settings"] = plan.settings;
  done_json["images"] = images;
  done_json["iterations"] = r.iterations;
  done_json["gaussians"] = r.model.size();
  done_json["device"] = r.device;
  done_json["init"] = r.init;
  done_json["regularizers"] = r.regularizers;
  done_json["train_resolution"] = {data.cameras[0].width, data.cameras[0].height};
  done_json["seconds"] = report.seconds;
  write_text_atomic((partial / "done.json").string(), done_json.dump(2) + "\n");
  fs::rename(partial, dir, ec);
  if (ec) throw_bad_input(dir.string(), "cannot rename the finished scene into place (" + ec.message() + ")");
  fs::remove_all(staging, ec);
  return report;
}

// The archive: scene folders at its root, entries sorted; written to a temporary name,
// checked, and renamed into place only when it passes (every archive written passes
// check_submission).
CheckReport write_archive(const std::vector<SceneInputs>& scenes, const fs::path& work, const std::string& archive,
                          const std::map<std::string, SpareSplit>& split, const CheckOptions& check) {
  std::error_code ec;
  const std::string tmp = archive + ".tmp-" + std::to_string(::getpid()) + ".zip";
  try {
    ZipWriter zip(tmp);
    for (const SceneInputs& s : scenes) {
      std::vector<std::string> files;
      for (int v : s.test) files.push_back(submission_image_name(s.naming, v));
      std::sort(files.begin(), files.end());
      for (const std::string& f : files) zip.add_file(s.name + "/" + f, (work / s.name / f).string());
    }
    zip.commit();
    CheckReport report = check_submission(tmp, split, check);
    report.archive = archive;
    if (!report.ok()) throw_internal("the archive written fails its check: " + report.problems.front().line());
    fs::rename(tmp, archive, ec);
    if (ec) throw_bad_input(archive, "cannot rename the archive into place (" + ec.message() + ")");
    return report;
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace

SubmissionResult make_submission(const SubmissionConfig& c, SubmissionObserver& observer) {
  const auto t0 = Clock::now();
  ScopedLogSink sink([&](LogSeverity severity, const std::string& message) { observer.log(severity, message); });
  if (c.archive.empty()) throw_bad_input("--output", "is empty");
  if (fs::path(c.archive).extension() != ".zip") throw_bad_input(c.archive, "the archive's name must end in .zip");
  std::error_code ec;
  if (fs::is_directory(c.archive, ec)) throw_bad_input(c.archive, "is a folder, expected the .zip to write");
  if (!fs::is_directory(c.data_root, ec)) throw_bad_input(c.data_root, "no such data folder");
  if (!c.calibration.empty() && !fs::is_directory(c.calibration, ec))
    throw_bad_input(c.calibration, "no such calibration folder");
  if (c.views < 0) throw_bad_input("--views", "must be >= 0");
  if ((c.width > 0) != (c.height > 0) || c.width < 0 || c.height < 0)
    throw_bad_input("--size", "give both width and height (or neither)");
  if (!c.recon.resume.empty()) throw_bad_input("--resume", "not available for submissions (finished scenes are reused)");
  const auto split = read_spare_split(c.split_file);
  const std::vector<std::string> names = select_scenes(split, c.selection, c.split_file);

  // Every input first: a missing scene, view or camera, or a corrupt image, fails here.
  observer.checking_inputs(int(names.size()));
  std::vector<SceneInputs> scenes;
  for (const std::string& name : names) {
    scenes.push_back(scene_inputs(c, name, entry_of(split, name)));
    check_input_images(scenes.back());
  }

  SubmissionResult result;
  result.archive = c.archive;
  result.work_dir = c.work_dir.empty() ? (fs::path(c.archive).replace_extension(".work")).string() : c.work_dir;
  const fs::path work(result.work_dir);
  fs::create_directories(work);
  // The archive is rewritten at the end; an old one must not outlive a failed run.
  if (fs::exists(c.archive, ec)) {
    log_info(c.archive + ": replacing the existing archive (it is written again when every scene is done)");
    fs::remove(c.archive, ec);
  }

  // Which scenes are done already; what the archive's check expects.
  std::vector<ScenePlan> plans(scenes.size());
  CheckOptions check;
  int todo = 0;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const SceneInputs& s = scenes[i];
    ScenePlan& p = plans[i];
    p.width = c.width > 0 ? c.width : s.width;
    p.height = c.height > 0 ? c.height : s.height;
    p.settings = scene_settings(c, s, p.width, p.height);
    const fs::path dir = work / s.name;
    p.reuse = finished_with(dir, p.settings);
    if (!p.reuse && fs::exists(dir, ec)) {
      log_info(s.name + ": made with other settings (or incomplete); redoing it");
      fs::remove_all(dir, ec);
    }
    todo += !p.reuse;
    check.scenes.push_back(s.name);
    check.naming[s.name] = s.naming;
    check.sizes[s.name] = {p.width, p.height};
  }
  result.width = plans.front().width;
  result.height = plans.front().height;

  std::vector<double> finished_seconds;
  int index = 0;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const SceneInputs& s = scenes[i];
    if (plans[i].reuse) {
      result.scenes.push_back(reused_scene(s, work / s.name));
      observer.scene_reused(result.scenes.back());
      continue;
    }
    const long iterations =
        c.recon.iterations >= 0 ? c.recon.iterations : default_iterations(c.recon.regularizers, s.train.size());
    const long units = iterations + long(s.test.size());
    observer.scene_started(index, todo, s.name, units);
    SceneProgress progress(observer, units, todo - index - 1, finished_seconds);
    result.scenes.push_back(reconstruct_scene(c, s, plans[i], iterations, work, progress));
    finished_seconds.push_back(result.scenes.back().seconds);
    ++index;
    observer.scene_finished(result.scenes.back(), (todo - index) * mean(finished_seconds));
  }
  fs::remove(work / ".staging", ec);

  result.check = write_archive(scenes, work, c.archive, split, check);
  result.seconds = seconds_since(t0);
  return result;
}

// ---- checking ----

namespace {

// An archive entry under a scene folder.
struct SceneFile {
  std::string name;  // below the scene folder
  size_t index = 0;  // in the archive
};

SceneNaming naming_for(const std::string& scene, const SpareSplit& entry, const CheckOptions& o,
                       const std::vector<SceneFile>& files) {
  if (const auto it = o.naming.find(scene); it != o.naming.end() && it->second != SceneNaming::Unknown) return it->second;
  const SceneNaming d = naming_of_dataset(entry.dataset);
  if (d != SceneNaming::Unknown) return d;
  for (const SceneFile& f : files)
    if (f.name.rfind("rect_", 0) == 0) return SceneNaming::Dtu;
  return SceneNaming::Synthetic;
}

}  // namespace

CheckReport check_submission(const std::string& archive, const std::map<std::string, SpareSplit>& split,
                             const CheckOptions& o) {
  const ZipReader zip(archive);
  CheckReport report;
  report.archive = archive;
  const std::set<std::string> expected_scenes(o.scenes.begin(), o.scenes.end());
  std::map<std::string, std::vector<SceneFile>> by_scene;
  std::set<std::string> reported_folders;
  for (size_t i = 0; i < zip.entries().size(); ++i) {
    const ZipEntry& e = zip.entries()[i];
    if (e.is_folder()) continue;  // folder entries hold no data; a wrapping folder shows in its files' names
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos) {
      report.problems.push_back({"", e.name, "file at the archive root (expected <scene>/<image>.png)"});
      continue;
    }
    const std::string top = e.name.substr(0, slash), rest = e.name.substr(slash + 1);
    if (!expected_scenes.count(top)) {
      if (!reported_folders.insert(top).second) continue;
      const size_t inner = rest.find('/');
      const std::string below = inner == std::string::npos ? "" : rest.substr(0, inner);
      if (!below.empty() && expected_scenes.count(below))
        report.problems.push_back({"", top + "/", "scene folders inside a parent folder: they must be at the archive root"});
      else if (split.count(top))
        report.problems.push_back({top, "", "scene not expected here (not among the selected scenes)"});
      else
        report.problems.push_back({top, "", "extra folder (not a scene of the split file)"});
      continue;
    }
    if (rest.find('/') != std::string::npos) {
      report.problems.push_back({top, rest, "nested file (images must lie directly in the scene folder)"});
      continue;
    }
    by_scene[top].push_back({rest, i});
  }

  for (const std::string& scene : o.scenes) {
    const SpareSplit& entry = entry_of(split, scene);
    const auto& files = by_scene[scene];
    CheckSceneSummary sum;
    sum.scene = scene;
    sum.expected = int(entry.test_views.size());
    const size_t before = report.problems.size();
    if (files.empty()) {
      report.problems.push_back({scene, "", "missing (no images in the archive; " + std::to_string(sum.expected) +
                                                " test views expected)"});
      sum.problems = 1;
      report.scenes.push_back(sum);
      continue;
    }
    const SceneNaming naming = naming_for(scene, entry, o, files);
    const auto size = o.sizes.find(scene);
    const int width = size != o.sizes.end() ? size->second.first : o.width;
    const int height = size != o.sizes.end() ? size->second.second : o.height;
    std::map<std::string, int> expected;  // name -> view
    for (int v : entry.test_views) expected[submission_image_name(naming, v)] = v;
    std::set<int> covered;
    for (const SceneFile& f : files) {
      const auto it = expected.find(f.name);
      if (it == expected.end()) {
        int number = 0, lighting = 0;
        if (parse_spare_image_name(f.name, number, lighting)) {
          const int v = number - 1;
          const std::string want = submission_image_name(naming, v);
          if (std::find(entry.test_views.begin(), entry.test_views.end(), v) != entry.test_views.end()) {
            report.problems.push_back({scene, f.name, "wrong name (expected " + want + ")"});
            covered.insert(v);
          } else {
            report.problems.push_back({scene, f.name, "extra image (view " + std::to_string(v) +
                                                          " is not a test view of the scene)"});
          }
        } else {
          report.problems.push_back({scene, f.name, "extra file (not a test view image)"});
        }
        continue;
      }
      covered.insert(it->second);
      std::string bytes;
      try {
        bytes = zip.read(f.index);
      } catch (const Error& e) {
        report.problems.push_back({scene, f.name, std::string("unreadable (") + e.what() + ")"});
        continue;
      }
      if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
        report.problems.push_back({scene, f.name, "not a PNG file"});
        continue;
      }
      Image img;
      try {
        img = decode_image(bytes, archive + ": " + scene + "/" + f.name);
      } catch (const Error& e) {
        report.problems.push_back({scene, f.name, "unreadable PNG (" + std::string(e.what()) + ")"});
        continue;
      }
      if (img.width != width || img.height != height) {
        report.problems.push_back({scene, f.name, std::to_string(img.width) + "x" + std::to_string(img.height) +
                                                      ", expected " + std::to_string(width) + "x" +
                                                      std::to_string(height)});
        continue;
      }
      ++sum.found;
      ++report.images;
    }
    for (const auto& [name, v] : expected)
      if (!covered.count(v)) report.problems.push_back({scene, name, "missing"});
    sum.problems = int(report.problems.size() - before);
    report.scenes.push_back(sum);
  }
  return report;
}

CheckReport merge_submissions(const std::vector<std::string>& parts, const std::string& output,
                              const std::map<std::string, SpareSplit>& split, const CheckOptions& options) {
  if (parts.empty()) throw_bad_input("--merge", "no archives to merge");
  if (fs::path(output).extension() != ".zip") throw_bad_input(output, "the archive's name must end in .zip");
  std::vector<std::unique_ptr<ZipReader>> readers;
  std::map<std::string, std::pair<size_t, size_t>> entries;  // name -> (part, index)
  for (size_t p = 0; p < parts.size(); ++p) {
    if (fs::absolute(parts[p]).lexically_normal() == fs::absolute(output).lexically_normal())
      throw_bad_input(output, "is also one of the archives to merge");
    readers.push_back(std::make_unique<ZipReader>(parts[p]));
    for (size_t i = 0; i < readers.back()->entries().size(); ++i) {
      const ZipEntry& e = readers.back()->entries()[i];
      if (e.is_folder()) continue;
      const auto [it, fresh] = entries.emplace(e.name, std::make_pair(p, i));
      if (!fresh) throw_bad_input(parts[p], "entry " + e.name + " is also in " + parts[it->second.first]);
    }
  }
  std::error_code ec;
  const std::string tmp = output + ".tmp-" + std::to_string(::getpid()) + ".zip";
  try {
    ZipWriter zip(tmp);
    for (const auto& [name, at] : entries) zip.add_entry_of(*readers[at.first], at.second, name);
    zip.commit();
    CheckReport report = check_submission(tmp, split, options);
    report.archive = output;
    if (report.ok()) {
      fs::rename(tmp, output, ec);
      if (ec) throw_bad_input(output, "cannot rename the archive into place (" + ec.message() + ")");
    } else {
      fs::remove(tmp, ec);
    }
    return report;
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

// ---- scoring ----

namespace {

Image load_mask(const fs::path& scene_gt, int view, const std::string& image_name, int width, int height) {
  for (const fs::path& p : {scene_gt / "mask" / spare_mask_name(view), scene_gt / "mask" / image_name}) {
    if (is_file(p)) return load_mask_image(p.string(), width, height);
  }
  return {};
}

nlohmann::ordered_json scores_object(const Scores& s) { return nlohmann::ordered_json::parse(scores_json(s)); }

}  // namespace

size_t count_ground_truth(const std::string& root, const std::map<std::string, SpareSplit>& split,
                          const std::vector<std::string>& scenes) {
  size_t n = 0;
  for (const std::string& scene : scenes)
    for (int v : entry_of(split, scene).test_views)
      n += is_file(fs::path(root) / scene / submission_image_name(SceneNaming::Synthetic, v)) ||
           is_file(fs::path(root) / scene / submission_image_name(SceneNaming::Dtu, v));
  return n;
}

ScoreReport score_submission(const std::string& archive, const std::map<std::string, SpareSplit>& split,
                             const ScoreOptions& o) {
  std::unique_ptr<Lpips> lpips;
  if (o.lpips) lpips = std::make_unique<Lpips>(Lpips::load(o.lpips_weights));
  std::error_code ec;
  if (!fs::is_directory(o.ground_truth, ec)) throw_bad_input(o.ground_truth, "no such ground-truth folder");
  const ZipReader zip(archive);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < zip.entries().size(); ++i) index[zip.entries()[i].name] = i;

  ScoreReport report;
  std::map<std::string, std::vector<ViewScore>> per_dataset;
  std::vector<ViewScore> all;
  for (const std::string& scene : o.scenes) {
    const SpareSplit& entry = entry_of(split, scene);
    const fs::path gt_dir = fs::path(o.ground_truth) / scene;
    // The archive's naming decides which ground-truth files to look for.
    SceneNaming naming = naming_of_dataset(entry.dataset);
    for (int v : entry.test_views)
      for (SceneNaming n : {SceneNaming::Synthetic, SceneNaming::Dtu})
        if (index.count(scene + "/" + submission_image_name(n, v))) naming = n;
    if (naming == SceneNaming::Unknown) naming = SceneNaming::Synthetic;
    std::vector<int> views = entry.test_views;
    std::sort(views.begin(), views.end());
    int with_gt = 0;
    for (int v : views) with_gt += is_file(gt_dir / submission_image_name(naming, v));
    if (with_gt == 0) {
      report.skipped.push_back(scene);
      continue;
    }
    std::vector<ViewScore> scores;
    for (int v : views) {
      const std::string name = submission_image_name(naming, v);
      const fs::path gt_path = gt_dir / name;
      if (!is_file(gt_path))
        throw_bad_input(gt_path.string(), "missing ground truth (" + std::to_string(with_gt) + " of " +
                                              std::to_string(views.size()) + " test views of scene " + scene + " have it)");
      const auto it = index.find(scene + "/" + name);
      if (it == index.end()) throw_bad_input(archive, "has no " + scene + "/" + name + " (run --check)");
      const std::string bytes = zip.read(it->second);
      const std::string where = archive + ": " + scene + "/" + name;
      const Image render = to_rgb(decode_image(bytes, where), bytes, where);
      const std::string gt_bytes = read_file(gt_path.string());
      const Image gt = to_rgb(decode_image(gt_bytes, gt_path.string()), gt_bytes, gt_path.string());
      if (render.width != gt.width || render.height != gt.height)
        throw_bad_input(where, std::to_string(render.width) + "x" + std::to_string(render.height) +
                                   " but the ground truth is " + std::to_string(gt.width) + "x" + std::to_string(gt.height));
      const Image mask = load_mask(gt_dir, v, name, gt.width, gt.height);
      scores.push_back(score_view_spare(name, render, gt, mask, lpips.get()));
      ViewScore named = scores.back();
      named.name = scene + "/" + name;
      per_dataset[entry.dataset.empty() ? "unknown" : entry.dataset].push_back(named);
      all.push_back(named);
    }
    report.scenes.push_back({scene, entry.dataset, summarize(std::move(scores))});
  }
  if (report.scenes.empty())
    throw_bad_input(o.ground_truth, "holds no ground-truth image of any selected scene (expected <scene>/<image name>)");
  for (auto& [dataset, views] : per_dataset) report.by_dataset[dataset] = summarize(std::move(views));
  report.all = summarize(std::move(all));
  return report;
}

std::string ScoreReport::json() const {
  nlohmann::ordered_json j;
  j["metrics"] = "SpaRe: PSNR-M = masked_psnr, SSIM-M = box_ssim, LPIPS-M = box_lpips; psnr, ssim, lpips on the whole image";
  j["all"] = scores_object(all);
  j["datasets"] = nlohmann::ordered_json::object();
  for (const auto& [dataset, s] : by_dataset) j["datasets"][dataset] = scores_object(s)["mean"];
  j["scenes"] = nlohmann::ordered_json::object();
  for (const SceneScores& s : scenes) {
    j["scenes"][s.scene] = scores_object(s.scores);
    j["scenes"][s.scene]["dataset"] = s.dataset;
  }
  j["skipped"] = skipped;
  return j.dump(2);
}

}  // namespace sp
