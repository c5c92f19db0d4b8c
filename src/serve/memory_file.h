// genre/serve: an upload as a file that exists only in memory (memfd), so the library's
// path-based decoders read it while nothing is ever written to disk, whatever happens.
#pragma once

#include <string>

namespace genre::serve {

class MemoryFile {
 public:
  // Copies `bytes` into an anonymous memory file. Throws genre::Error(kIo) on failure.
  explicit MemoryFile(const std::string& bytes);
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // A path that opens the memory file (/proc/self/fd/N) while this object lives.
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace genre::serve
