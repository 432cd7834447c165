// `sparsplat train-prior` and `recon --prior` refuse bad input with one line and exit code 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include "support/synthetic_scene.h"
#include "support/test_support.h"

namespace {

struct Result {
  int code;
  std::string err;
};

Result run(const std::string& args) {
  const std::string dir = sp::test::temp_dir("prior_cli");
  const std::string cmd = std::string(SPARSPLAT_CLI) + " -q " + args + " > /dev/null 2> " + dir + "/err.txt";
  const int status = std::system(cmd.c_str());
  std::ifstream in(dir + "/err.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

TEST(PriorCli, BadInputIsOneLineExitTwo) {
  const std::string dir = sp::test::temp_dir("prior_cli_scene");
  sp::test::SyntheticSceneOptions so;
  so.views = 6;
  so.gaussians = 30;
  sp::test::write_synthetic_colmap_scene(dir, so);
  std::ofstream(dir + "/garbage.pt") << "nope";
  const std::string recon = "recon " + dir + " --train-ids 0,2,4 --test-ids 1 --iterations 5 -o " + dir + "/out ";
  for (const std::string& args : {recon + "--prior " + dir + "/missing.pt", recon + "--prior " + dir + "/garbage.pt",
                                  "train-prior " + dir + "/missing.json -o " + dir + "/tp",
                                  std::string("train-prior ") + SPARSPLAT_SOURCE_DIR + "/scenes/demo.json -o " + dir +
                                      "/tp --views 5"}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
