#include "serve/upload.h"

#include <cstdlib>

namespace genre::serve {

long long declared_length(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return -1;
  const std::string v = req.get_header_value("Content-Length");
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  return end && *end == '\0' && !v.empty() && n >= 0 ? n : -1;
}

namespace {

bool expects_body(const httplib::Request& req) {
  return declared_length(req) > 0 || req.get_header_value("Transfer-Encoding") == "chunked";
}

}  // namespace

Upload read_upload(const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader, std::size_t limit) {
  Upload up;
  const long long declared = declared_length(req);
  if (declared > static_cast<long long>(limit)) {
    discard_body(req, res, reader);
    up.status = Upload::Status::kTooLarge;
    return up;
  }
  if (!expects_body(req)) {
    up.status = Upload::Status::kNoFile;
    return up;
  }
  bool too_large = false;
  auto keep = [&](const char* data, std::size_t n) {
    if (up.bytes.size() + n > limit) {
      too_large = true;
      return false;  // stop reading: never hold more than the limit
    }
    up.bytes.append(data, n);
    return true;
  };
  bool ok = false;
  if (req.is_multipart_form_data()) {
    bool have_file = false, in_file = false;
    ok = reader(
        [&](const httplib::MultipartFormData& part) {
          in_file = !have_file && (!part.filename.empty() || part.name == "file");
          if (in_file) {
            have_file = true;
            if (!part.filename.empty()) up.name = part.filename;
          }
          return true;
        },
        [&](const char* data, std::size_t n) { return in_file ? keep(data, n) : true; });
    if (ok && !have_file) up.status = Upload::Status::kNoFile;
  } else {
    ok = reader(keep);
  }
  if (too_large || res.status == 413) {
    up.status = Upload::Status::kTooLarge;
    res.set_header("Connection", "close");  // the rest of the body was not read
  } else if (!ok) {
    up.status = Upload::Status::kIncomplete;
    res.set_header("Connection", "close");
  } else if (up.status == Upload::Status::kOk && up.bytes.empty()) {
    up.status = Upload::Status::kNoFile;
  }
  if (up.status != Upload::Status::kOk) up.bytes.clear();
  return up;
}

void discard_body(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
  if (!expects_body(req)) return;
  const int status = res.status;
  if (req.is_multipart_form_data()) {
    reader([](const httplib::MultipartFormData&) { return true; },
           [](const char*, std::size_t) { return true; });
  } else {
    reader([](const char*, std::size_t) { return true; });
  }
  res.status = status;
}

}  // namespace genre::serve
