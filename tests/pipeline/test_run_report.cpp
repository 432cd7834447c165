// engine/pipeline/run_report.h and svg_chart.h: the page holds what it promises (scores,
// curves, images, stages, options), escapes what it quotes, and a real browser shows it:
// headless Chromium's screenshot must contain the curves' colours and the embedded image.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "engine/core/atomic_file.h"
#include "engine/io/image_io.h"
#include "engine/pipeline/run_report.h"
#include "engine/pipeline/svg_chart.h"
#include "support/command_runner.h"
#include "support/test_support.h"

namespace sp {
namespace {
namespace fs = std::filesystem;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

TEST(SvgChart, NiceTicksCoverTheRangeAtRoundSteps) {
  EXPECT_EQ(nice_ticks(0, 1000), (std::vector<double>{0, 200, 400, 600, 800, 1000}));
  EXPECT_EQ(nice_ticks(12.3, 17.9), (std::vector<double>{13, 14, 15, 16, 17}));
  EXPECT_EQ(nice_ticks(0.02, 0.11), (std::vector<double>{0.02, 0.04, 0.06, 0.08, 0.1}));
  EXPECT_EQ(nice_ticks(5, 5), (std::vector<double>{5}));
  EXPECT_TRUE(nice_ticks(0, std::numeric_limits<double>::infinity()).empty());
  const std::vector<double> t = nice_ticks(-3.5, 48000);
  ASSERT_FALSE(t.empty());
  EXPECT_GE(t.front(), -3.5);
  EXPECT_LE(t.back(), 48000);
  EXPECT_LE(t.size(), 10u);
}

TEST(SvgChart, OnePolylinePerSeriesAndNonFinitePointsLeftOut) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ChartSeries a{"loss", "#1f77b4", {1, 2, 3, 4}, {0.5, nan, 0.3, 0.2}, false};
  ChartSeries b{"held <out>", "#d62728", {0, 4}, {12, 15}, true};
  const std::string svg = svg_line_chart({a, b}, {"PSNR & loss", "iteration", "dB"});
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<circle"), 2u);  // markers on b only
  // a's polyline has its three finite points.
  const size_t p = svg.find("points=\"");
  ASSERT_NE(p, std::string::npos);
  const std::string pts = svg.substr(p + 8, svg.find('"', p + 8) - p - 8);
  EXPECT_EQ(count(pts, ","), 3u) << pts;
  EXPECT_NE(svg.find("PSNR &amp; loss"), std::string::npos);
  EXPECT_NE(svg.find("held &lt;out&gt;"), std::string::npos);  // legend, escaped
  EXPECT_EQ(svg.find("<out>"), std::string::npos);

  const std::string empty = svg_line_chart({ChartSeries{"x", "#000", {}, {}, false}}, {"t", "x", "y"});
  EXPECT_NE(empty.find("no data"), std::string::npos);
  EXPECT_EQ(count(empty, "<polyline"), 0u);
  // A single point and a flat series still draw (a span is made up around them).
  EXPECT_EQ(count(svg_line_chart({ChartSeries{"x", "#000", {7}, {3}, true}}, {"t", "x", "y"}), "<circle"), 1u);
}

TEST(RunReport, HeldoutSubsetIsSpreadOverTheTestViews) {
  EXPECT_EQ(heldout_subset(25), (std::vector<size_t>{0, 8, 16, 24}));
  EXPECT_EQ(heldout_subset(2), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(heldout_subset(1), (std::vector<size_t>{0}));
  EXPECT_TRUE(heldout_subset(0).empty());
}

// A report as recon would make it, with colours a screenshot can find: the image is a flat
// green panel, the curves use the report's own series colours.
RunReport sample_report(int views) {
  RunReport r;
  r.title = "scene <one> & two";
  r.summary = {{"dataset", "/data/scene"}, {"Gaussians", "12345"}};
  for (int i = 0; i < views; ++i) {
    ReportView v;
    v.score.name = "view_" + std::to_string(i) + ".png";
    v.score.psnr = 20 + i;
    v.score.ssim = 0.8;
    v.initial_psnr = 11.5;
    Image green(360, 90, 3, 0.0f);
    for (size_t p = 0; p < green.pixel_count(); ++p) green.pixels[p * 3 + 1] = 1.0f;
    v.jpeg = encode_jpeg(green, 90);
    v.link = "test/side_by_side/" + v.score.name;
    r.scores.views.push_back(v.score);
    r.views.push_back(v);
  }
  r.scores.mean_psnr = 21;
  r.scores.mean_ssim = 0.8;
  r.initial_scores.mean_psnr = 11.5;
  for (int it = 10; it <= 1000; it += 10) {
    r.history.iteration.push_back(it);
    r.history.loss.push_back(0.3 * std::exp(-it / 300.0) + 0.02);
    r.history.train_psnr.push_back(14 + 10 * (1 - std::exp(-it / 250.0)));
    r.history.gaussians.push_back(40000 + 20 * it);
  }
  r.history.heldout_iteration = {0, 200, 400, 600, 800, 1000};
  r.history.heldout_psnr = {11.5, 16, 18, 19.5, 20.3, 21};
  r.history.heldout_label = "PSNR, 2 of 2 test views";
  r.stages = {{"initialize", true, "stereo start", 12.5}, {"train", true, "cpu", 100}, {"language", false, "no features", 0}};
  r.options = {{"regularizers", "sparse-view preset <3 views>"}};
  return r;
}

TEST(RunReport, HoldsScoresCurvesImagesStagesAndOptions) {
  const std::string html = report_html(sample_report(3));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 3u);  // loss, PSNR, Gaussians
  EXPECT_EQ(count(html, "<polyline"), 4u);  // + the held-out series beside train PSNR
  EXPECT_EQ(count(html, "<circle"), 6u);    // one marker per checkpoint
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), 3u);
  EXPECT_EQ(count(html, "href=\"test/side_by_side/view_"), 3u);
  EXPECT_NE(html.find("mean of 3"), std::string::npos);
  EXPECT_NE(html.find("21.00"), std::string::npos);   // mean PSNR
  EXPECT_NE(html.find("11.50"), std::string::npos);   // untrained start
  EXPECT_NE(html.find("not run"), std::string::npos);  // the language stage
  EXPECT_NE(html.find("scene &lt;one&gt; &amp; two"), std::string::npos);
  EXPECT_NE(html.find("sparse-view preset &lt;3 views&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<one>"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched at view time
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

bool have_chromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }

// Pixels of `img` within `tol` (0..255 per channel) of `rgb`.
size_t pixels_near(const Image& img, int r, int g, int b, int tol) {
  size_t n = 0;
  for (size_t p = 0; p < img.pixel_count(); ++p) {
    const float* q = &img.pixels[p * size_t(img.channels)];
    if (std::abs(q[0] * 255 - r) <= tol && std::abs(q[1] * 255 - g) <= tol && std::abs(q[2] * 255 - b) <= tol) ++n;
  }
  return n;
}

TEST(RunReport, HeadlessChromiumShowsTheCurvesAndTheImages) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string dir = test::temp_dir("report-chromium");
  const std::string page = dir + "/report.html", shot = dir + "/shot.png";
  write_text_atomic(page, report_html(sample_report(2)));
  // Root (CI containers) needs --no-sandbox; a private profile keeps runs independent.
  const test::CommandResult c = test::run_command(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=" + dir +
      "/profile --window-size=1100,1400 --screenshot=" + shot + " file://" + fs::absolute(page).string());
  ASSERT_TRUE(fs::is_regular_file(shot)) << "exit " << c.code << ": " << c.output;
  const Image img = load_image(shot, 3);
  EXPECT_EQ(img.width, 1100);
  // The three curves are drawn 2 px wide over hundreds of pixels; the held-out markers too.
  EXPECT_GT(pixels_near(img, 0x1f, 0x77, 0xb4, 40), 300u) << "no loss curve (blue)";
  EXPECT_GT(pixels_near(img, 0x2c, 0xa0, 0x2c, 40), 300u) << "no train PSNR curve (green)";
  EXPECT_GT(pixels_near(img, 0xd6, 0x27, 0x28, 40), 100u) << "no held-out PSNR markers (red)";
  EXPECT_GT(pixels_near(img, 0x94, 0x67, 0xbd, 40), 300u) << "no Gaussian count curve (purple)";
  // Two 360x90 flat green images (JPEG keeps flat colour within a few levels).
  EXPECT_GT(pixels_near(img, 0, 255, 0, 24), size_t(2 * 360 * 90 * 0.9)) << "the embedded images are not shown";
}

}  // namespace
}  // namespace sp
