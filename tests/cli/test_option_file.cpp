// Option files and shell completion end to end (tools/sparsplat/option_file.h, completion.h):
// recon's config.json repeats its run bit for bit, a file's values apply and the command line
// wins, bad files give one error line, exit code 2 and no output folder, and the bash script
// parses and completes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "support/command_runner.h"
#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {

using Result = sp::test::CommandResult;
using sp::test::run_cli;

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

const std::string& scene() {
  static const std::string dir = [] {
    const std::string d = sp::test::temp_dir("option-file-scene");
    sp::test::write_synthetic_colmap_scene(d);
    return d;
  }();
  return dir;
}

// A run small enough for seconds: 3 views (the sparse-view preset), a few random Gaussians.
const std::string kShortRun = " --train-views 3 --init random --init-points 300 --seed 5";

TEST(OptionFile, ReconConfigJsonRepeatsTheRunExactly) {
  const std::string dir = sp::test::temp_dir("option-file-repeat");
  const std::string first = dir + "/first", second = dir + "/second";
  // --threads after the subcommand: root options fall through, and config.json records them.
  const Result r = run_cli("recon " + scene() + kShortRun + " --iterations 10 --threads 2 -o " + first);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("config.json"), std::string::npos) << r.output;  // in the "outputs in" lines

  const auto config = read_json(fs::path(first) / "config.json");
  EXPECT_EQ(config["dataset"], scene());
  EXPECT_EQ(config["output"], first);
  EXPECT_EQ(config["iterations"], 10);
  EXPECT_EQ(config["train-views"], 3);
  EXPECT_EQ(config["init"], "random");
  EXPECT_EQ(config["threads"], 2);
  // Options left at their defaults are there too, with the types --config reads.
  EXPECT_EQ(config["sh-degree"], 3);
  EXPECT_EQ(config["no-densify"], false);
  EXPECT_EQ(config["prior-one-step"], true);
  EXPECT_EQ(config["prior-weight"], 0.3);
  EXPECT_EQ(config["train-ids"], nlohmann::json::array());
  EXPECT_EQ(config["resume"], "");
  // Left to the preset (a default its own range refuses): null, which --config reads as unset.
  EXPECT_TRUE(config["depth-smoothness"].is_null());
  for (const auto& e : fs::recursive_directory_iterator(first))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();

  const Result again = run_cli("recon --config " + first + "/config.json -o " + second);
  ASSERT_EQ(again.code, 0) << again.output;
  const auto a = read_json(fs::path(first) / "metrics.json"), b = read_json(fs::path(second) / "metrics.json");
  ASSERT_FALSE(a["views"].empty());
  EXPECT_EQ(a["views"], b["views"]);  // same seed and threads: the same floats
  EXPECT_EQ(a["mean"], b["mean"]);
  for (const char* key : {"iterations", "gaussians", "threads", "init", "regularizers", "seed", "train_views"})
    EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_EQ(read_bytes(fs::path(first) / "point_cloud.ply"), read_bytes(fs::path(second) / "point_cloud.ply"));
  // The second run's config.json differs only in the output folder the command line gave.
  auto config2 = read_json(fs::path(second) / "config.json");
  EXPECT_EQ(config2["output"], second);
  config2["output"] = first;
  EXPECT_EQ(config2, config);
}

TEST(OptionFile, FileValuesApplyAndTheCommandLineWins) {
  const std::string dir = sp::test::temp_dir("option-file-apply");
  const std::string file = dir + "/run.json";
  write_text(file, "{\"dataset\": \"" + scene() + "\", \"iterations\": 6, \"init\": \"random\", \"init-points\": 200,\n"
                   " \"regularizers\": \"off\", \"train-ids\": [1, 5, 9], \"no-test-renders\": true,\n"
                   " \"depth-smoothness\": null, \"output\": \"" + dir + "/a\"}\n");
  const Result a = run_cli("recon --config " + file);
  ASSERT_EQ(a.code, 0) << a.output;
  EXPECT_NE(a.output.find("6 iterations in"), std::string::npos) << a.output;
  EXPECT_EQ(read_json(dir + "/a/metrics.json")["iterations"], 6);
  EXPECT_EQ(read_json(dir + "/a/split.json")["train_ids"], nlohmann::json({1, 5, 9}));
  EXPECT_TRUE(read_json(dir + "/a/metrics.json")["views"].empty());  // the flag from the file

  const Result b = run_cli("recon --config " + file + " --iterations 4 --train-ids 2,6,10 -o " + dir + "/b");
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_EQ(read_json(dir + "/b/metrics.json")["iterations"], 4);
  EXPECT_EQ(read_json(dir + "/b/split.json")["train_ids"], nlohmann::json({2, 6, 10}));
  EXPECT_FALSE(fs::exists(dir + "/a/b"));

  // TOML, by the file's extension, through CLI11's own reader.
  write_text(dir + "/run.toml", "dataset = \"" + scene() + "\"\niterations = 5\ninit = \"random\"\n"
                                "regularizers = \"off\"\ntrain-views = 3\nno-test-renders = true\n");
  const Result t = run_cli("recon --config " + dir + "/run.toml -o " + dir + "/t");
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_EQ(read_json(dir + "/t/metrics.json")["iterations"], 5);

  // Every subcommand reads one: info with its positional and an option from the file.
  write_text(dir + "/info.json", "{\"path\": \"" + scene() + "\", \"train-views\": 4}");
  const Result info = run_cli("info --config " + dir + "/info.json");
  ASSERT_EQ(info.code, 0) << info.output;
  EXPECT_NE(info.output.find("colmap"), std::string::npos) << info.output;
}

TEST(OptionFile, BadFilesGiveOneLineExitTwoAndNoOutput) {
  const std::string dir = sp::test::temp_dir("option-file-bad");
  const std::string out = dir + "/out";
  const auto expect_refused = [&](const std::string& name, const std::string& text, const std::string& needle) {
    const std::string file = dir + "/" + name;
    write_text(file, text);
    // The line names the file and the key.
    sp::test::expect_cli_bad_input("recon " + scene() + " --train-views 3 -o " + out + " --config " + file,
                                   name + ": " + needle, out);
  };
  expect_refused("unknown.json", "{\"iteration\": 5}", "unknown key \"iteration\"");
  expect_refused("string.json", "{\"iterations\": \"many\"}", "\"iterations\" expects an integer");
  expect_refused("fraction.json", "{\"iterations\": 2.5}", "\"iterations\" expects an integer");
  expect_refused("flag.json", "{\"no-densify\": 1}", "\"no-densify\" expects true or false");
  expect_refused("list.json", "{\"seed\": [1, 2]}", "\"seed\" takes one value");
  expect_refused("text.json", "{\"init\": false}", "\"init\" expects a string");
  expect_refused("broken.json", "{\"iterations\": 5,", "not valid JSON");
  expect_refused("array.json", "[1, 2]", "expected a JSON object");
  expect_refused("section.toml", "[recon]\niterations = 5\n", "sections and dotted keys are not read ([recon])");
  expect_refused("nokey.toml", "iteration = 5\n", "unknown key \"iteration\"");
  // CLI11's own checks of a value from a file name the option.
  write_text(dir + "/range.json", "{\"iterations\": -5}");
  sp::test::expect_cli_bad_input("recon " + scene() + " -o " + out + " --config " + dir + "/range.json", "iterations", out);
  sp::test::expect_cli_bad_input("recon " + scene() + " -o " + out + " --config " + dir + "/missing.json", "missing.json", out);
}

TEST(Completion, BashScriptCoversTheCommandsAndCompletes) {
  const Result r = run_cli("completion bash");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* word : {"recon", "render", "eval", "info", "export", "synth", "submit", "language", "query",
                           "train-prior", "completion", "--train-views", "--config", "--threads", "--prior-ddim"})
    EXPECT_NE(r.output.find(word), std::string::npos) << word;
  const std::string dir = sp::test::temp_dir("completion");
  const std::string script = dir + "/sparsplat.bash";
  write_text(script, r.output);
  const Result syntax = sp::test::run_command("bash -n " + script);
  EXPECT_EQ(syntax.code, 0) << syntax.output;

  // What the function offers after the words typed so far (the last one being completed).
  const auto complete = [&](const std::string& words) {
    const Result c = sp::test::run_command("bash -c 'source " + script + "; COMP_WORDS=(" + words +
                                           "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _sparsplat; echo \"${COMPREPLY[*]}\"'");
    EXPECT_EQ(c.code, 0) << c.output;
    return c.output.substr(0, c.output.find_last_not_of('\n') + 1);
  };
  EXPECT_EQ(complete("sparsplat re"), "recon render");
  EXPECT_EQ(complete("sparsplat recon data --train-v"), "--train-views");
  EXPECT_EQ(complete("sparsplat recon data --init \"\""), "auto sfm random mvs");
  EXPECT_EQ(complete("sparsplat --threads 2 render m --device c"), "cpu cuda");
  EXPECT_EQ(complete("sparsplat completion \"\""), "bash zsh");
  EXPECT_EQ(complete("sparsplat recon data --iterations \"\""), "");  // a number: nothing to offer
  EXPECT_EQ(complete("sparsplat recon " + dir + "/sparsplat.ba"), script);  // a positional path

  const Result zsh = run_cli("completion zsh");
  ASSERT_EQ(zsh.code, 0) << zsh.output;
  EXPECT_NE(zsh.output.find("bashcompinit"), std::string::npos);
  sp::test::expect_cli_bad_input("completion fish", "fish");
}

}  // namespace
