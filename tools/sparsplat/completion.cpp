// The completion script generator (completion.h): one bash function whose case arms are
// written from the app tree, so it never falls behind the options.
#include "tools/sparsplat/completion.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

namespace sp::cli {

namespace {

// What the shell may offer after an option (or in a positional slot).
struct ValueWords {
  bool takes_value = false;
  bool numeric = false;
  std::vector<std::string> choices;  // from an IsMember check: "TEXT:{auto,sfm,random,mvs}"
};

bool shell_safe(const std::string& word) {
  if (word.empty()) return false;
  for (char c : word)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+')) return false;
  return true;
}

ValueWords value_words(const CLI::Option& opt) {
  ValueWords w;
  w.takes_value = opt.get_items_expected_max() > 0;
  const std::string type = opt.get_type_name();
  const std::string base = type.substr(0, type.find(':'));
  w.numeric = base == "INT" || base == "UINT" || base == "FLOAT";
  const size_t open = type.find(":{"), close = type.find('}', open);
  if (open != std::string::npos && close != std::string::npos) {
    std::stringstream list(type.substr(open + 2, close - open - 2));
    for (std::string choice; std::getline(list, choice, ',');)
      if (shell_safe(choice)) w.choices.push_back(choice);
  }
  return w;
}

// The option's names as typed: -o, --output (negated flags too: --prior-ddim).
std::vector<std::string> typed_names(const CLI::Option& opt) {
  std::vector<std::string> names;
  for (const std::string& s : opt.get_snames()) names.push_back("-" + s);
  for (const std::string& l : opt.get_lnames()) names.push_back("--" + l);
  return names;
}

std::string join(const std::vector<std::string>& words, const char* separator) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

std::string reply_words(const std::vector<std::string>& words) {
  return "COMPREPLY=($(compgen -W \"" + join(words, " ") + "\" -- \"$cur\"))";
}

// The visible options of `app` and, for a subcommand, of root (they fall through to it).
std::vector<const CLI::Option*> options_of(const CLI::App& app, const CLI::App& root) {
  std::vector<const CLI::App*> owners = {&app};
  if (&app != &root) owners.push_back(&root);
  std::vector<const CLI::Option*> out;
  for (const CLI::App* owner : owners)
    for (const CLI::Option* opt : owner->get_options())
      if (!opt->get_group().empty()) out.push_back(opt);  // an empty group hides an option
  return out;
}

// One case arm of the function: this command's option words, what follows each option that
// takes a value, and what its positional slots take.
void write_command(std::ostream& out, const CLI::App& app, const CLI::App& root, const std::string& pattern,
                   const std::vector<std::string>& subcommands) {
  std::vector<std::string> words, numbers, files, positional_choices;
  bool positional_files = false;
  std::vector<std::pair<std::string, std::vector<std::string>>> choice_arms;
  for (const CLI::Option* opt : options_of(app, root)) {
    const ValueWords w = value_words(*opt);
    if (opt->get_positional() && opt->get_snames().empty() && opt->get_lnames().empty()) {
      if (!w.choices.empty()) positional_choices.insert(positional_choices.end(), w.choices.begin(), w.choices.end());
      else positional_files = true;
      continue;
    }
    std::vector<std::string> names;
    for (const std::string& name : typed_names(*opt))  // -h, --help: the subcommand's and root's
      if (std::find(words.begin(), words.end(), name) == words.end()) names.push_back(name);
    if (names.empty()) continue;
    words.insert(words.end(), names.begin(), names.end());
    if (!w.takes_value) continue;
    if (!w.choices.empty()) choice_arms.emplace_back(join(names, "|"), w.choices);
    else if (w.numeric) numbers.insert(numbers.end(), names.begin(), names.end());
    else files.insert(files.end(), names.begin(), names.end());
  }
  out << "    " << pattern << ")\n";
  out << "      options=\"" << join(words, " ") << "\"\n";
  out << "      case $prev in\n";
  for (const auto& [names, choices] : choice_arms) out << "        " << names << ") " << reply_words(choices) << "; return ;;\n";
  if (!files.empty()) out << "        " << join(files, "|") << ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
  if (!numbers.empty()) out << "        " << join(numbers, "|") << ") return ;;  # a number\n";
  out << "      esac\n";
  if (!subcommands.empty())
    out << "      [[ $cur == -* ]] || { " << reply_words(subcommands) << "; return; }\n";
  else if (!positional_choices.empty() && !positional_files)
    out << "      [[ $cur == -* ]] || { " << reply_words(positional_choices) << "; return; }\n";
  else if (!positional_files)
    out << "      [[ $cur == -* ]] || return\n";
  out << "      ;;\n";
}

std::string bash_script(const CLI::App& root) {
  std::vector<std::string> subcommands;
  for (const CLI::App* sub : root.get_subcommands({})) subcommands.push_back(sub->get_name());
  // Root options that take a value: their value is not the subcommand's name.
  std::vector<std::string> root_valued;
  for (const CLI::Option* opt : options_of(root, root))
    if (value_words(*opt).takes_value) {
      const auto names = typed_names(*opt);
      root_valued.insert(root_valued.end(), names.begin(), names.end());
    }

  std::ostringstream out;
  out << "# sparsplat shell completion, written by `sparsplat completion bash` from its own options.\n"
         "# Install: sparsplat completion bash > ~/.local/share/bash-completion/completions/sparsplat\n"
         "_sparsplat() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
         "  local command=\"\" options=\"\" i\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    case ${COMP_WORDS[i]} in\n";
  if (!root_valued.empty()) out << "      " << join(root_valued, "|") << ") ((i++)) ;;\n";
  out << "      " << join(subcommands, "|") << ") command=${COMP_WORDS[i]}; break ;;\n"
      << "    esac\n"
      << "  done\n"
      << "  case $command in\n";
  write_command(out, root, root, "\"\"", subcommands);
  for (const CLI::App* sub : root.get_subcommands({})) write_command(out, *sub, root, sub->get_name(), {});
  out << "  esac\n"
         "  if [[ $cur == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F _sparsplat sparsplat\n";
  return out.str();
}

}  // namespace

std::string completion_script(const CLI::App& root, const std::string& shell) {
  const std::string bash = bash_script(root);
  if (shell == "zsh")
    return "# zsh: the bash completion through bashcompinit. Install: eval \"$(sparsplat completion zsh)\" in ~/.zshrc\n"
           "autoload -U +X bashcompinit && bashcompinit\n" +
           bash;
  return bash;
}

}  // namespace sp::cli
