#include "common/error.h"

namespace genre {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kUnreadable:
      return "unreadable";
    case ErrorKind::kNotAudio:
      return "not_audio";
    case ErrorKind::kUnsupportedFormat:
      return "unsupported_format";
    case ErrorKind::kEmpty:
      return "empty";
    case ErrorKind::kCorrupt:
      return "corrupt";
    case ErrorKind::kInvalidArgument:
      return "invalid_argument";
    case ErrorKind::kModelFile:
      return "model_file";
    case ErrorKind::kData:
      return "data";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kDistributed:
      return "distributed";
  }
  return "unknown";
}

static std::string format_message(const std::string& path, const std::string& reason) {
  return path.empty() ? reason : path + ": " + reason;
}

Error::Error(ErrorKind kind, std::string path, const std::string& reason)
    : std::runtime_error(format_message(path, reason)),
      kind_(kind),
      path_(std::move(path)),
      reason_(reason) {}

}  // namespace genre
