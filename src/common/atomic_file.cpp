#include "common/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace genre {

namespace fs = std::filesystem;

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  // Unique per host, process and call: processes of a job on several machines may write the same
  // file on a shared filesystem (a feature cache entry); each renames its own whole copy.
  char host[64] = "";
  ::gethostname(host, sizeof host - 1);
  const std::string tmp = path + ".tmp." + host + "." + std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1));
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorKind::kIo, path, "cannot create temporary file " + tmp);
      write(out);
      out.flush();
      if (!out) throw Error(ErrorKind::kIo, path, "write failed (disk full?)");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw Error(ErrorKind::kIo, path, "cannot rename temporary file: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void make_directories(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::kIo, dir, "cannot create directory: " + ec.message());
}

}  // namespace genre
