// genre/data: turn command-line inputs into a list of audio files.
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace genre {

struct InputFile {
  std::string path;      // as given or found
  std::string relative;  // path relative to the directory it was found in (or the file name)
  std::string problem;   // non-empty: found while walking a folder but unusable (a symlink loop,
                         // a broken link, an unreadable folder); report it, do not process it
};

// Expands files, directories (recursive, audio extensions, sorted; symlinked folders followed
// once, loops reported as problems), "@list.txt" (one path per
// line, '#' comments) and "-" (paths on `stdin_stream`). Files named explicitly are kept even if
// missing or not audio, so that they get a per-file error later. Throws genre::Error(kNotFound)
// for a missing list file. `extra_extensions` adds e.g. ".npy".
std::vector<InputFile> expand_inputs(const std::vector<std::string>& args,
                                     std::istream& stdin_stream,
                                     const std::vector<std::string>& extra_extensions = {});

// "a/b/song.flac" -> "a/b/song" + new_extension.
std::string replace_extension(const std::string& path, const std::string& new_extension);

}  // namespace genre
