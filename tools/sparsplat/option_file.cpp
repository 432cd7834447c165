// The reader behind --config and the writer of a run's options (option_file.h). The reader
// hands CLI11 one item per key, aimed at the subcommand on the command line; CLI11 then fills
// only the options the command line left unset, which is how the command line wins.
#include "tools/sparsplat/option_file.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sp::cli {

namespace {

using Json = nlohmann::ordered_json;

// How an option takes its values, which fixes the JSON type a file must give.
enum class ValueKind { Flag, Integer, Number, Text };

ValueKind value_kind(const CLI::Option& opt) {
  if (opt.get_expected_min() == 0) return ValueKind::Flag;  // CLI11's own test for a flag in a file
  const std::string type = opt.get_type_name();             // "INT:INT in [0 - 3]", "TEXT:{auto,off}"
  const std::string base = type.substr(0, type.find(':'));
  if (base == "INT" || base == "UINT") return ValueKind::Integer;
  if (base == "FLOAT") return ValueKind::Number;
  return ValueKind::Text;
}

bool takes_list(const CLI::Option& opt) { return opt.get_items_expected_max() > 1; }

// The key of an option: its first long name, else its positional name ("dataset").
std::string key_of(const CLI::Option& opt) { return opt.get_single_name(); }

// The option a key names, looked up the way CLI11 applies it (--key, -k, positional).
const CLI::Option* find_option(const CLI::App& app, const std::string& key) {
  if (const CLI::Option* o = app.get_option_no_throw("--" + key)) return o;
  if (key.size() == 1)
    if (const CLI::Option* o = app.get_option_no_throw("-" + key)) return o;
  return app.get_option_no_throw(key);
}

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw CLI::ConfigError(file + ": " + what); }

// A value for one slot of `opt`, as the text CLI11 parses; the JSON type must fit the option.
std::string slot_text(const std::string& file, const std::string& key, const Json& v, ValueKind kind) {
  const auto wrong = [&](const char* expected) {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
    fail(file, "\"" + key + "\" expects " + expected + ", got " + v.type_name() + " " + shown);
  };
  switch (kind) {
    case ValueKind::Flag:
      if (!v.is_boolean()) wrong("true or false");
      return v.get<bool>() ? "true" : "false";
    case ValueKind::Integer:
      if (!v.is_number_integer()) wrong("an integer");
      return v.dump();
    case ValueKind::Number:
      if (!v.is_number()) wrong("a number");
      return v.dump();
    case ValueKind::Text:
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number()) return v.dump();  // e.g. synth's --resolution 400
      wrong("a string");
  }
  fail(file, "\"" + key + "\": unhandled option kind");
}

class OptionFileReader final : public CLI::Config {
 public:
  explicit OptionFileReader(const CLI::App& root) : root_(root) {}

  std::string to_config(const CLI::App* app, bool, bool, std::string) const override;

  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    const std::string file = file_name();
    const std::string suffix = ".toml";
    const bool toml = file.size() >= suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
    std::vector<CLI::ConfigItem> items;
    if (toml) {
      // CLI11's reader gives every value as text: the options' own conversions check them.
      for (const CLI::ConfigItem& item : CLI::ConfigTOML().from_config(in)) {
        if (!item.parents.empty()) {
          const bool section = item.name == "++" || item.name == "--";
          fail(file, "sections and dotted keys are not read (" +
                         (section ? "[" + CLI::detail::join(item.parents, ".") + "]" : item.fullname()) +
                         "); give the options at the top level");
        }
        if (item.name == "++" || item.name == "--") continue;
        items.push_back(aimed(file, item.name, item.inputs));
      }
      return items;
    }
    Json doc;
    try {
      doc = Json::parse(in);
    } catch (const Json::parse_error& e) {
      std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 2, ..."
      if (const size_t end = what.find("] "); what.rfind("[json.exception", 0) == 0 && end != std::string::npos)
        what = what.substr(end + 2);
      fail(file, "not valid JSON (" + what + ")");
    }
    if (!doc.is_object()) fail(file, std::string("expected a JSON object of option names and values, got ") + doc.type_name());
    for (const auto& [key, value] : doc.items()) {
      const CLI::Option& opt = option_for(file, key);
      const ValueKind kind = value_kind(opt);
      std::vector<std::string> inputs;
      if (value.is_array()) {
        if (!takes_list(opt)) fail(file, "\"" + key + "\" takes one value, got an array");
        for (const Json& element : value) {
          if (element.is_array() || element.is_object() || element.is_null()) fail(file, "\"" + key + "\": a list of single values is expected");
          inputs.push_back(slot_text(file, key, element, kind));
        }
      } else if (!value.is_null() && !(value.is_string() && value.get<std::string>().empty())) {
        inputs.push_back(slot_text(file, key, value, kind));
      }
      // null, "" and []: the option keeps its default (config.json writes unset options so).
      if (!inputs.empty()) items.push_back(aimed(file, key, std::move(inputs)));
    }
    return items;
  }

 private:
  // The subcommand on the command line (the innermost, if they nest); root without one.
  const CLI::App& command() const {
    const CLI::App* app = &root_;
    while (!app->get_subcommands().empty()) app = app->get_subcommands().front();
    return *app;
  }

  std::string file_name() const {
    const CLI::Option* opt = root_.get_config_ptr();
    return opt && !opt->results().empty() ? opt->results().back() : "option file";
  }

  // The option a key sets: the subcommand's, else root's own (e.g. "threads").
  const CLI::Option& option_for(const std::string& file, const std::string& key) const {
    const CLI::App& cmd = command();
    const CLI::Option* opt = find_option(cmd, key);
    if (!opt && &cmd != &root_) opt = find_option(root_, key);
    const std::string where = &cmd == &root_ ? "sparsplat" : "sparsplat " + cmd.get_name();
    if (!opt) fail(file, "unknown key \"" + key + "\" (" + where + " has no option --" + key + ")");
    if (!opt->get_configurable()) fail(file, "\"" + key + "\" cannot be set from a file");
    return *opt;
  }

  // An item for CLI11, its parents the subcommands from root down to the option's owner.
  CLI::ConfigItem aimed(const std::string& file, const std::string& key, std::vector<std::string> inputs) const {
    (void)option_for(file, key);  // unknown or unsettable keys fail here (TOML's come this way)
    const CLI::App& cmd = command();
    CLI::ConfigItem item;
    item.name = key;
    item.inputs = std::move(inputs);
    if (find_option(cmd, key) != nullptr || &cmd == &root_) {
      for (const CLI::App* app = &cmd; app != &root_ && app != nullptr; app = app->get_parent())
        item.parents.insert(item.parents.begin(), app->get_name());
    }
    return item;
  }

  const CLI::App& root_;
};

// The value CLI11 captured as the option's default, split like its results.
std::vector<std::string> default_values(const CLI::Option& opt) {
  std::string text = opt.get_default_str();
  if (!takes_list(opt)) return text.empty() ? std::vector<std::string>{} : std::vector<std::string>{text};
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  std::vector<std::string> values;
  for (size_t start = 0; !text.empty() && start <= text.size();) {
    const size_t comma = text.find(',', start);
    values.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

// Whether the option's own checks take `text`. A default they refuse is a marker for "decided
// later" (--iterations -1: the preset's count), which a file must leave unset to mean the same.
bool checks_accept(const CLI::Option& opt, const std::string& text) {
  // CLI11 2.1 lends validators only through a non-const accessor; they are only called here.
  auto& option = const_cast<CLI::Option&>(opt);
  for (int i = 0;; ++i) {
    const CLI::Validator* check = nullptr;
    try {
      check = option.get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return true;
    }
    if (!(*check)(text).empty()) return false;
  }
}

Json value_json(const std::string& text, ValueKind kind) {
  if (kind == ValueKind::Text) return text;
  try {
    Json number = Json::parse(text);
    if (number.is_number()) return number;
  } catch (const Json::parse_error&) {
  }
  return text;  // not a JSON number (e.g. "inf"): the option's conversion reads it back
}

Json options_object(const CLI::App& command) {
  Json out = Json::object();
  for (const CLI::Option* opt : command.get_options()) {
    if (!opt->get_configurable() || key_of(*opt).empty()) continue;  // --help, not_a_setting
    const ValueKind kind = value_kind(*opt);
    std::vector<std::string> values = opt->count() > 0 ? opt->reduced_results() : default_values(*opt);
    if (opt->count() == 0 && kind != ValueKind::Flag)
      for (const std::string& v : values)
        if (!checks_accept(*opt, v)) values.clear();
    Json& slot = out[key_of(*opt)];
    if (kind == ValueKind::Flag) {
      slot = !values.empty() && CLI::detail::to_flag_value(values.back()) > 0;
    } else if (takes_list(*opt)) {
      slot = Json::array();
      for (const std::string& v : values) slot.push_back(value_json(v, kind));
    } else if (values.empty()) {
      slot = kind == ValueKind::Text ? Json("") : Json(nullptr);  // unset: read back as "the default"
    } else {
      slot = value_json(values.back(), kind);
    }
  }
  return out;
}

std::string OptionFileReader::to_config(const CLI::App* app, bool, bool, std::string) const {
  return options_object(*app).dump(2);
}

}  // namespace

void add_option_file(CLI::App& root) {
  root.set_config("--config", "",
                  "Read options from FILE: a JSON object of long option names and values (TOML for *.toml), "
                  "e.g. a recon's config.json; options on the command line win")
      ->type_name("FILE");
  root.config_formatter(std::make_shared<OptionFileReader>(root));
}

std::string options_json(const CLI::App& command, int threads) {
  Json out = options_object(command);
  out["threads"] = threads;
  return out.dump(2);
}

}  // namespace sp::cli
