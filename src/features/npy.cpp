#include "features/npy.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace genre {

namespace {

const char kMagic[] = "\x93NUMPY";

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

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open .npy file");
  char magic[6] = {};
  unsigned char version[2] = {};
  in.read(magic, 6);
  in.read(reinterpret_cast<char*>(version), 2);
  if (!in || std::memcmp(magic, kMagic, 6) != 0)
    throw Error(ErrorKind::kCorrupt, path, "not a .npy file (bad magic)");
  std::uint32_t header_len = 0;
  if (version[0] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  if (!in || header_len > 65536) throw Error(ErrorKind::kCorrupt, path, "bad .npy header length");
  std::string header(header_len, '\0');
  in.read(&header[0], header_len);
  if (!in) throw Error(ErrorKind::kCorrupt, path, "truncated .npy header");

  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<>|=]?)([fi])(\\d)'")))
    throw Error(ErrorKind::kUnsupportedFormat, path, "unsupported .npy dtype in header: " + header);
  const std::string order = m[1], kind = m[2];
  const int width = std::stoi(m[3]);
  if (order == ">" || kind != "f" || (width != 4 && width != 8))
    throw Error(ErrorKind::kUnsupportedFormat, path,
                ".npy must be little-endian float32 or float64");
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True")))
    throw Error(ErrorKind::kUnsupportedFormat, path, ".npy in Fortran order is not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    throw Error(ErrorKind::kCorrupt, path, ".npy header has no shape");

  NpyArray arr;
  std::int64_t count = 1;
  std::stringstream dims(m[1].str());
  std::string item;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(" ") == std::string::npos) continue;
    const std::int64_t d = std::stoll(item);
    if (d < 0 || d > (std::int64_t{1} << 31))
      throw Error(ErrorKind::kCorrupt, path, "bad .npy shape");
    arr.shape.push_back(d);
    count *= d;
  }
  if (count > (std::int64_t{1} << 31)) throw Error(ErrorKind::kCorrupt, path, ".npy too large");
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
  Spectrogram s;
  s.n_mels = static_cast<int>(dims[0]);
  s.n_frames = static_cast<int>(dims[1]);
  s.data = std::move(arr.data);
  return s;
}

}  // namespace genre
