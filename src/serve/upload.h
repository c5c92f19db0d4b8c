// genre/serve: reading an upload (the raw request body, or the first file of a multipart form)
// without ever holding more than the limit.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>

namespace genre::serve {

struct Upload {
  enum class Status {
    kOk,
    kTooLarge,    // more than the limit (by Content-Length, or counted while reading)
    kIncomplete,  // the client went away, timed out, or sent a malformed body
    kNoFile,      // a multipart form without a file part, or an empty body
  };
  Status status = Status::kOk;
  std::string bytes;
  std::string name = "upload";  // the form's file name when there is one
};

// The declared Content-Length, or -1 when absent (chunked) or unparsable.
long long declared_length(const httplib::Request& req);

Upload read_upload(const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader, std::size_t limit);

// Reads and drops the body (up to the server's payload limit; cpp-httplib skips a longer one
// without storing it), so that an early answer reaches the client and the connection stays in
// step. Call before answering a POST without reading its upload.
void discard_body(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader);

}  // namespace genre::serve
