#pragma once
// `sparsplat completion bash|zsh`: a shell completion script made by walking the CLI11 app
// tree, so it lists whatever subcommands and options this build has. CLI11 types stay out
// of this header (commands.h).
#include <string>

namespace CLI {
class App;
}

namespace sp::cli {

// The script for "bash", or for "zsh" (the bash script through zsh's bashcompinit; the zsh
// wrapper was not run where this was written: no zsh there).
// Subcommands and their options; the values of options with a fixed set (IsMember checks);
// file names for text options and positional paths; nothing for numbers.
std::string completion_script(const CLI::App& root, const std::string& shell);

}  // namespace sp::cli
