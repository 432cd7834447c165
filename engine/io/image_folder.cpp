#include "engine/io/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "engine/core/error.h"

namespace sp {
namespace fs = std::filesystem;

bool has_image_extension(const std::string& filename) {
  std::string ext = fs::path(filename).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

ImageFolder choose_image_folder(const std::string& root, int downscale) {
  std::error_code ec;
  const bool has_full = fs::is_directory(fs::path(root) / "images", ec);
  std::map<int, std::string> shrunk;  // factor -> folder name
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("images_", 0) != 0 || !it->is_directory(ec)) continue;
    const std::string digits = name.substr(7);
    if (digits.empty() || digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) continue;
    const int f = std::stoi(digits);
    if (f >= 1) shrunk[f] = name;
  }
  const auto make = [&](const std::string& name, int factor) {
    ImageFolder f;
    f.path = (fs::path(root) / name).string();
    f.name = name;
    f.factor = factor;
    f.remaining = downscale > 0 ? double(downscale) / factor : 1.0;
    return f;
  };
  if (downscale > 1 && shrunk.count(downscale)) return make(shrunk[downscale], downscale);
  if (has_full) return make("images", 1);
  if (!shrunk.empty()) {
    if (downscale <= 0) return make(shrunk.begin()->second, shrunk.begin()->first);
    // The finest copy that is still at least as large as asked for.
    for (auto it = shrunk.rbegin(); it != shrunk.rend(); ++it)
      if (it->first <= downscale) return make(it->second, it->first);
  }
  std::string found;
  for (const auto& [f, name] : shrunk) found += (found.empty() ? "" : ", ") + name;
  throw_bad_input(root, "no image folder for downscale " + std::to_string(downscale) + " (expected images/" +
                            (downscale > 1 ? " or images_" + std::to_string(downscale) + "/" : std::string()) +
                            (found.empty() ? "; found none" : "; found " + found) + ")");
}

std::vector<std::string> list_image_files(const std::string& folder) {
  std::error_code ec;
  std::vector<std::string> files;
  fs::directory_iterator it(folder, ec);
  if (ec) throw_bad_input(folder, "cannot list the image folder (" + ec.message() + ")");
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw_bad_input(folder, "cannot list the image folder (" + ec.message() + ")");
    const std::string name = it->path().filename().string();
    if (has_image_extension(name) && it->is_regular_file(ec)) files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sp
