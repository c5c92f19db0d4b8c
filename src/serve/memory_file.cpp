#include "serve/memory_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace genre::serve {

MemoryFile::MemoryFile(const std::string& bytes) {
  fd_ = ::memfd_create("genre-upload", MFD_CLOEXEC);
  if (fd_ < 0) throw Error(ErrorKind::kIo, "memfd", std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd_);
      throw Error(ErrorKind::kIo, "memfd", reason);
    }
    done += static_cast<std::size_t>(n);
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemoryFile::~MemoryFile() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace genre::serve
