#pragma once
// report.html: one self-contained page per reconstruction (scores, training curves as inline
// SVG, the side-by-side test images as data: URLs, options, time per stage), to look at in
// any browser offline. recon writes it beside metrics.json (docs/training.md "Report").
#include <string>
#include <vector>

#include "engine/eval/scores.h"

namespace sp {

// Training curves sampled while the run goes; x values are iterations.
struct TrainingHistory {
  std::vector<double> iteration, loss, train_psnr, gaussians;
  std::vector<double> heldout_iteration, heldout_psnr;  // checkpoints on a subset of the test views
  std::string heldout_label;                            // what the held-out PSNR is ("PSNR-M, 4 of 25 test views")
};

struct ReportRow {
  std::string name, value;
};

struct ReportStage {
  std::string name;
  bool ran = false;
  std::string detail;
  double seconds = 0;
};

struct ReportView {
  ViewScore score;
  double initial_psnr = -1;  // the untrained start on this view (PSNR-M where masked); < 0 unknown
  std::string jpeg;          // ground truth | render | error, encoded
  std::string link;          // relative path of the full-size PNG ("" = none)
};

struct RunReport {
  std::string title;
  std::vector<ReportRow> summary;  // dataset, split, device, time, Gaussians...
  Scores scores, initial_scores;
  TrainingHistory history;
  std::vector<ReportStage> stages;
  std::vector<ReportRow> options;
  std::vector<ReportView> views;
};

std::string report_html(const RunReport& report);

// How many test views the held-out checkpoints score, and which: up to `count` of `n`,
// evenly spread (indices into the test list).
std::vector<size_t> heldout_subset(size_t n, size_t count = 4);

}  // namespace sp
