// genre/common: the error type every stage throws.
//
// Errors carry a machine-readable kind and the file they concern, so callers that process
// thousands of files can report one line per failure and carry on.
#pragma once

#include <stdexcept>
#include <string>

namespace genre {

enum class ErrorKind {
  kNotFound,           // the path does not exist
  kUnreadable,         // exists but cannot be opened or read (permissions, I/O error, a directory)
  kNotAudio,           // the bytes are not a recognised audio container
  kUnsupportedFormat,  // recognised, but the encoding is not supported
  kEmpty,              // decodes to zero samples
  kCorrupt,            // recognised but malformed or truncated
  kInvalidArgument,    // a parameter or configuration is out of range
  kModelFile,          // a model file is truncated, foreign or inconsistent
  kData,               // a dataset, manifest or split list is unusable
  kIo,                 // writing an output failed
  kDistributed,        // a data-parallel job lost a process or its rendezvous
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string path, const std::string& reason);

  ErrorKind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  ErrorKind kind_;
  std::string path_;
  std::string reason_;
};

}  // namespace genre
