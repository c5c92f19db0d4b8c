#include "features/npy.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace genre {

namespace {

const char kMagic[] = "\x93NUMPY";
// 2^31 values (8 GiB as float32): a bound on what a header may ask genre to allocate.
constexpr std::int64_t kMaxNpyElements = std::int64_t{1} << 31;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) s += ",";
    if (i + 1 < shape.size()) s += " ";
  }
  return s + ")";
}

}  // namespace

namespace {

// The header is a Python dict literal; genre reads three keys from it by hand (std::regex
// recurses per character and overflows the stack on a hostile 64 KiB header).
std::string header_value(const std::string& header, const std::string& key,
                         const std::string& path) {
  std::size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) at = header.find("\"" + key + "\"");
  if (at == std::string::npos)
    throw Error(ErrorKind::kCorrupt, path, ".npy header has no '" + key + "'");
  at = header.find_first_not_of(" \t", at + key.size() + 2);
  if (at == std::string::npos || header[at] != ':')
    throw Error(ErrorKind::kCorrupt, path, ".npy header: no value for '" + key + "'");
  at = header.find_first_not_of(" \t", at + 1);
  if (at == std::string::npos) throw Error(ErrorKind::kCorrupt, path, ".npy header is cut short");
  const char open = header[at];
  const char close = open == '(' ? ')' : open == '\'' || open == '"' ? open : ',';
  const std::size_t begin = open == close || open == '(' ? at + 1 : at;
  std::size_t end = header.find(close, begin);
  if (end == std::string::npos && close == ',') end = header.find('}', begin);
  if (end == std::string::npos)
    throw Error(ErrorKind::kCorrupt, path, ".npy header: unterminated '" + key + "'");
  std::string value = header.substr(begin, end - begin);
  while (!value.empty() && (value.back() == ' ' || value.back() == '}')) value.pop_back();
  return value;
}

std::vector<std::int64_t> parse_shape(const std::string& text, const std::string& path) {
  std::vector<std::int64_t> shape;
  std::int64_t count = 1;
  std::stringstream dims(text);
  std::string item;
  while (std::getline(dims, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    const auto last = item.find_last_not_of(' ');
    const std::string digits = item.substr(first, last - first + 1);
    if (digits.empty() || digits.size() > 10 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      throw Error(ErrorKind::kCorrupt, path, "bad .npy shape (" + text + ")");
    const std::int64_t d = std::stoll(digits);
    if (d > std::numeric_limits<int>::max() || (d > 0 && count > kMaxNpyElements / d))
      throw Error(ErrorKind::kCorrupt, path, ".npy shape (" + text + ") is too large");
    shape.push_back(d);
    count *= d;
  }
  if (shape.size() > 8) throw Error(ErrorKind::kCorrupt, path, ".npy has too many dimensions");
  return shape;
}

std::uint32_t read_header_length(std::istream& in, const std::string& path) {
  char magic[6] = {};
  unsigned char version[2] = {};
  in.read(magic, 6);
  in.read(reinterpret_cast<char*>(version), 2);
  if (!in || std::memcmp(magic, kMagic, 6) != 0)
    throw Error(ErrorKind::kCorrupt, path, "not a .npy file (bad magic)");
  if (version[0] < 1 || version[0] > 3)
    throw Error(ErrorKind::kUnsupportedFormat, path,
                ".npy format version " + std::to_string(version[0]) + " is not supported");
  unsigned char b[4] = {};
  in.read(reinterpret_cast<char*>(b), version[0] == 1 ? 2 : 4);
  const std::uint32_t len =
      b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  if (!in || len > 65536) throw Error(ErrorKind::kCorrupt, path, "bad .npy header length");
  return len;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open .npy file");
  const std::uint32_t header_len = read_header_length(in, path);
  std::string header(header_len, '\0');
  in.read(&header[0], header_len);
  if (!in) throw Error(ErrorKind::kCorrupt, path, "truncated .npy header");

  const std::string descr = header_value(header, "descr", path);
  const int width = descr == "<f4" || descr == "f4" ? 4 : descr == "<f8" || descr == "f8" ? 8 : 0;
  if (width == 0)
    throw Error(ErrorKind::kUnsupportedFormat, path,
                ".npy dtype '" + descr + "': must be little-endian float32 or float64");
  const std::string fortran = header_value(header, "fortran_order", path);
  if (fortran != "False")
    throw Error(ErrorKind::kUnsupportedFormat, path, ".npy in Fortran order is not supported");
  NpyArray arr;
  arr.shape = parse_shape(header_value(header, "shape", path), path);
  std::int64_t count = 1;
  for (auto d : arr.shape) count *= d;

  // The data must be exactly what the header promises, checked before allocating for it.
  const std::streamoff data_start = in.tellg();
  in.seekg(0, std::ios::end);
  const std::streamoff data_bytes = in.tellg() - data_start;
  in.seekg(data_start);
  if (data_bytes < count * width)
    throw Error(ErrorKind::kCorrupt, path,
                "truncated .npy data: " + std::to_string(data_bytes) + " bytes for " +
                    std::to_string(count) + " values");
  arr.data.resize(static_cast<std::size_t>(count));
  if (width == 4) {
    in.read(reinterpret_cast<char*>(arr.data.data()), count * 4);
  } else {
    std::vector<double> tmp(static_cast<std::size_t>(count));
    in.read(reinterpret_cast<char*>(tmp.data()), count * 8);
    for (std::size_t i = 0; i < tmp.size(); ++i) arr.data[i] = static_cast<float>(tmp[i]);
  }
  if (!in) throw Error(ErrorKind::kCorrupt, path, "truncated .npy data");
  return arr;
}

void write_npy(const std::string& path, const std::vector<std::int64_t>& shape,
               const std::vector<float>& data) {
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  // Pad so that the data starts on a 64-byte boundary, newline-terminated (format 1.0).
  const std::size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(kMagic, 6);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                  static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(len), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size() * sizeof(float)));
  });
}

void write_npy(const std::string& path, const Spectrogram& s) {
  write_npy(path, {s.n_mels, s.n_frames}, s.data);
}

Spectrogram spectrogram_from_npy(const std::string& path) {
  NpyArray arr = read_npy(path);
  std::vector<std::int64_t> dims;
  for (std::size_t i = 0; i < arr.shape.size(); ++i)
    if (!(arr.shape[i] == 1 && i + 2 < arr.shape.size())) dims.push_back(arr.shape[i]);
  if (dims.size() != 2 || dims[0] < 1 || dims[1] < 1)
    throw Error(ErrorKind::kUnsupportedFormat, path,
                "expected a log-mel array shaped (mels, frames) or (1, 1, mels, frames)");
  for (float v : arr.data)
    if (!std::isfinite(v))
      throw Error(ErrorKind::kCorrupt, path, "log-mel array contains NaN or infinite values");
  Spectrogram s;
  s.n_mels = static_cast<int>(dims[0]);
  s.n_frames = static_cast<int>(dims[1]);
  s.data = std::move(arr.data);
  return s;
}

}  // namespace genre
