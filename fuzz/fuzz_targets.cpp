#include "fuzz_targets.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "audio/audio.h"
#include "common/error.h"
#include "data/dataset.h"
#include "features/features.h"
#include "features/npy.h"
#include "serve/memory_file.h"
#include "serve/query.h"
#include "serve/upload.h"

namespace genre::fuzz {

namespace fs = std::filesystem;

namespace {

std::string bytes_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Decodes an upload as the service does; only genre::Error may come out.
void decode_upload(const std::string& bytes, bool whole) {
  if (bytes.empty()) return;
  serve::MemoryFile file(bytes);
  FeatureConfig config = feature_default_params();
  extract_logmel(file.path(), config, whole);
}

}  // namespace

const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string templ = (fs::temp_directory_path() / "genre-fuzz-XXXXXX").string();
    if (!::mkdtemp(templ.data())) std::abort();
    static std::string keep;
    keep = templ;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(keep, ec);
    });
    return templ;
  }();
  return dir;
}

void audio_one_input(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  try {
    decode_upload(bytes_of(data + 1, size - 1), data[0] & 1);
  } catch (const Error&) {
  }
}

void npy_one_input(const std::uint8_t* data, std::size_t size) {
  try {
    serve::MemoryFile file(bytes_of(data, size));
    spectrogram_from_npy(file.path());
  } catch (const Error&) {
  }
}

void dataset_one_input(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const std::string dir = scratch_dir();
  const std::string manifest = dir + ((data[0] & 1) ? "/m.tsv" : "/m.csv");
  const std::string text = bytes_of(data + 1, size - 1);
  write_file(manifest, text);
  fs::create_directories(dir + "/split");
  write_file(dir + "/split/train.txt", text);
  try {
    Dataset ds = load_dataset(manifest);
    apply_split_lists(ds, dir + "/split");
    ds.class_counts(ds.indices_of_split("train"));
  } catch (const Error&) {
  }
  fs::remove(manifest);
}

namespace {

// Feeds a request from memory and throws the response away.
class MemoryStream : public httplib::Stream {
 public:
  explicit MemoryStream(std::string request) : in_(std::move(request)) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 1;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 2;
  }
  socket_t socket() const override { return 0; }

 private:
  std::string in_;
  size_t pos_ = 0;
};

// cpp-httplib turns a handler's exception into a 500; under fuzzing anything but genre::Error
// must stop the run instead.
template <typename F>
void only_genre_errors(F&& f) {
  try {
    f();
  } catch (const Error&) {
  } catch (...) {
    std::abort();
  }
}

// The service's request path without a model: upload and query readers, then the decoder.
class FuzzServer : public httplib::Server {
 public:
  FuzzServer() {
    set_payload_max_length(1 << 20);
    Post("/v1/classify", [](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
      only_genre_errors([&] {
        const serve::ClassifyQuery q = serve::parse_classify_query(req, 10);
        const serve::Upload up = serve::read_upload(req, res, reader, 1 << 20);
        if (q.error.empty() && up.status == serve::Upload::Status::kOk)
          decode_upload(up.bytes, q.classify.segments);
      });
    });
    Post("/v1/features", [](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
      only_genre_errors([&] {
        std::string error;
        const bool whole = serve::parse_bool_param(req, "whole", false, error);
        if (!error.empty()) return serve::discard_body(req, res, reader);
        const serve::Upload up = serve::read_upload(req, res, reader, 1 << 20);
        if (up.status == serve::Upload::Status::kOk) decode_upload(up.bytes, whole);
      });
    });
  }
  void process(const std::string& request) {
    MemoryStream stream(request);
    bool closed = false;
    process_request(stream, true, closed, nullptr);
  }
};

}  // namespace

void serve_request_one_input(const std::uint8_t* data, std::size_t size) {
  static FuzzServer server;
  try {
    server.process(bytes_of(data, size));
  } catch (const Error&) {
  }
}

}  // namespace genre::fuzz
