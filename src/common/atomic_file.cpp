#include "common/atomic_file.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace genre {

namespace fs = std::filesystem;

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorKind::kIo, path, "cannot create temporary file " + tmp);
      write(out);
      // close() flushes the last buffer: a full disk often shows only here.
      out.close();
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

int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    // NAME.tmp.PID.N, as write_file_atomically() names them.
    const std::string name = it->path().filename().string();
    const auto tmp = name.rfind(".tmp.");
    if (tmp == std::string::npos) continue;
    const std::string rest = name.substr(tmp + 5);
    const auto dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos ||
        rest.find_first_not_of("0123456789.") != std::string::npos)
      continue;
    const long pid = std::stol(rest.substr(0, dot));
    if (pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

void make_directories(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::kIo, dir, "cannot create directory: " + ec.message());
}

}  // namespace genre
