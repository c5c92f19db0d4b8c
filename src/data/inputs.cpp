#include "data/inputs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

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

struct DirectoryId {
  dev_t device;
  ino_t inode;
  bool operator<(const DirectoryId& o) const {
    return device != o.device ? device < o.device : inode < o.inode;
  }
};

// Walks `dir` recursively, following directory symlinks but never into a directory it is already
// inside (a symlink loop), and reports loops, broken links and unreadable folders as problems
// instead of stopping or skipping silently.
class DirectoryWalk {
 public:
  DirectoryWalk(const fs::path& root, const std::vector<std::string>& extra,
                std::vector<InputFile>& found)
      : root_(root), extra_(extra), found_(found) {}

  void walk(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return problem(dir, std::strerror(errno));
    const DirectoryId id{st.st_dev, st.st_ino};
    if (!ancestors_.insert(id).second)
      return problem(dir, "symlink loop (links back to a folder it is inside), skipped");
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      entries.push_back(it->path());
    if (ec) problem(dir, "cannot list folder: " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) visit(e);
    ancestors_.erase(id);
  }

 private:
  void visit(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      // A dangling or looping symlink: only worth a line when it looks like an input.
      if (errno == ELOOP || wanted(p, extra_)) problem(p, std::strerror(errno));
      return;
    }
    if (S_ISDIR(st.st_mode)) return walk(p);
    if (S_ISREG(st.st_mode) && wanted(p, extra_)) add(p, "");
  }
  void problem(const fs::path& p, const std::string& what) { add(p, what); }
  void add(const fs::path& p, const std::string& problem) {
    // Lexical: a file reached through a symlinked folder keeps the path it was found under.
    found_.push_back({p.string(), p.lexically_relative(root_).string(), problem});
  }

  fs::path root_;
  const std::vector<std::string>& extra_;
  std::vector<InputFile>& found_;
  std::set<DirectoryId> ancestors_;
};

void add_path(const std::string& arg, std::vector<InputFile>& out,
              const std::vector<std::string>& extra) {
  std::error_code ec;
  if (fs::is_directory(arg, ec) && !wanted(arg, extra)) {
    std::vector<InputFile> found;
    DirectoryWalk(arg, extra, found).walk(arg);
    std::sort(found.begin(), found.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    out.insert(out.end(), found.begin(), found.end());
  } else {
    out.push_back({arg, fs::path(arg).filename().string(), ""});
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
