// genre/common: write files so that a crash never leaves a partial output behind.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace genre {

// Calls `write` with a stream on a temporary file beside `path`, then renames it over `path`.
// On any failure the temporary file is removed and genre::Error(kIo) is thrown.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

// Removes the temporary files write_file_atomically() left in `dir` (not recursive) when a
// process was killed mid-write: those whose writer process no longer exists. Returns how many.
int remove_stale_temporaries(const std::string& dir);

// Creates `dir` and its parents; throws genre::Error(kIo) on failure.
void make_directories(const std::string& dir);

}  // namespace genre
