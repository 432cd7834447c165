#pragma once
// Option files: `--config FILE` for every subcommand, and the options of a run written back
// in the same form (recon's config.json). A file is a JSON object (TOML for *.toml) whose
// keys are the long option names of the subcommand given: {"iterations": 2000,
// "train-views": 3, "no-densify": true, "train-ids": [1, 10, 19]}. Options given on the
// command line win over the file.
//
// CLI11 types stay out of this header (it is slow to compile; commands.h).
#include <string>

namespace CLI {
class App;
}

namespace sp::cli {

// Adds --config FILE to `root` and installs the reader behind it. Call after every
// subcommand is added (they keep CLI11's own config text, which `submit` records). A key
// that names no option of the subcommand (nor of `root`, e.g. "threads"), a value of the
// wrong JSON type, broken JSON or a missing file is a CLI11 parse error naming the file and
// the key (exit 2 before any subcommand runs).
void add_option_file(CLI::App& root);

// Every configurable option of `command` with its value after parsing (command line, option
// file or default) as the JSON text --config reads back, plus "threads": the worker count
// the run uses, since results follow it (docs/training.md "Determinism"). An option left at
// a default its own checks refuse (-1: "the preset's") is written null, and an unset text
// option "": --config reads null, "" and [] as "keep the default". A flag's default is false
// unless its default string says otherwise (main.cpp sets it on flags that default to true).
std::string options_json(const CLI::App& command, int threads);

}  // namespace sp::cli
