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

namespace {

std::string this_host() {
  char host[64] = "";
  ::gethostname(host, sizeof host - 1);
  return host;
}

// The process that wrote NAME.tmp.HOST.PID.N (write_file_atomically's names), when HOST is this
// machine; 0 otherwise (another machine's temporaries on a shared disk are left alone).
long writer_on_this_host(const std::string& name) {
  const auto tmp = name.rfind(".tmp.");
  if (tmp == std::string::npos) return 0;
  const std::string rest = name.substr(tmp + 5);  // HOST.PID.N (the host may contain dots)
  const auto last = rest.rfind('.');
  if (last == std::string::npos || last == 0) return 0;
  const auto before = rest.rfind('.', last - 1);
  if (before == std::string::npos) return 0;
  const std::string pid = rest.substr(before + 1, last - before - 1);
  const std::string counter = rest.substr(last + 1);
  if (pid.empty() || counter.empty() || pid.find_first_not_of("0123456789") != std::string::npos ||
      counter.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9)
    return 0;
  return rest.substr(0, before) == this_host() ? std::stol(pid) : 0;
}

}  // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  static std::atomic<unsigned> counter{0};
  // Unique per host, process and call: processes of a job on several machines may write the same
  // file on a shared filesystem (a feature cache entry); each renames its own whole copy.
  static const std::string host = this_host();
  const std::string tmp = path + ".tmp." + host + "." + std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1));
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
    const long pid = writer_on_this_host(it->path().filename().string());
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue;
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
