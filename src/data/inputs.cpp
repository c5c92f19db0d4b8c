#include "data/inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "audio/audio.h"
#include "common/error.h"

namespace genre {

namespace fs = std::filesystem;

namespace {

bool wanted(const fs::path& p, const std::vector<std::string>& extra) {
  if (has_audio_extension(p.string())) return true;
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return std::find(extra.begin(), extra.end(), ext) != extra.end();
}

void add_path(const std::string& arg, std::vector<InputFile>& out,
              const std::vector<std::string>& extra) {
  std::error_code ec;
  if (fs::is_directory(arg, ec) && !wanted(arg, extra)) {
    std::vector<InputFile> found;
    for (auto it =
             fs::recursive_directory_iterator(arg,
                                              fs::directory_options::follow_directory_symlink |
                                                  fs::directory_options::skip_permission_denied,
                                              ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || !wanted(it->path(), extra)) continue;
      found.push_back({it->path().string(), fs::relative(it->path(), arg, ec).string()});
    }
    std::sort(found.begin(), found.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    out.insert(out.end(), found.begin(), found.end());
  } else {
    out.push_back({arg, fs::path(arg).filename().string()});
  }
}

void add_lines(std::istream& in, std::vector<InputFile>& out,
               const std::vector<std::string>& extra) {
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    add_path(line, out, extra);
  }
}

}  // namespace

std::vector<InputFile> expand_inputs(const std::vector<std::string>& args,
                                     std::istream& stdin_stream,
                                     const std::vector<std::string>& extra_extensions) {
  std::vector<InputFile> out;
  for (const auto& arg : args) {
    if (arg == "-") {
      add_lines(stdin_stream, out, extra_extensions);
    } else if (arg.size() > 1 && arg[0] == '@') {
      std::ifstream list(arg.substr(1));
      if (!list) throw Error(ErrorKind::kNotFound, arg.substr(1), "cannot open input list");
      add_lines(list, out, extra_extensions);
    } else {
      add_path(arg, out, extra_extensions);
    }
  }
  return out;
}

std::string replace_extension(const std::string& path, const std::string& new_extension) {
  fs::path p(path);
  p.replace_extension(new_extension);
  return p.string();
}

}  // namespace genre
