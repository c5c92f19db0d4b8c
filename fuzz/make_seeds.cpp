// Writes the seed corpora for genre's fuzz targets: small valid inputs of every kind, made by
// genre's own code and libsndfile (never copied from ../shared).
//   make_seeds OUT_DIR   -> OUT_DIR/{audio,npy,dataset,serve_request,model_file}/...
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "features/npy.h"
#include "model/model_file.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void put(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// A short tone in `format`, or "" when this libsndfile cannot write it.
std::string encoded_tone(int format, int rate, int channels, double seconds) {
  const std::string tmp = (fs::temp_directory_path() / "genre-seed.tmp").string();
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(tmp.c_str(), SFM_WRITE, &info);
  if (!f) return "";
  const int frames = static_cast<int>(seconds * rate);
  std::vector<float> x(static_cast<std::size_t>(frames) * channels);
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c)
      x[static_cast<std::size_t>(i) * channels + c] = 0.5f * std::sin(0.07f * i * (c + 1));
  sf_writef_float(f, x.data(), frames);
  sf_close(f);
  std::string bytes = slurp(tmp);
  fs::remove(tmp);
  return bytes;
}

std::vector<std::pair<std::string, std::string>> audio_seeds() {
  const std::pair<const char*, int> formats[] = {
      {"pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
      {"float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT},
      {"ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW},
      {"pcm24.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24},
      {"pcm16.au", SF_FORMAT_AU | SF_FORMAT_PCM_16},
      {"pcm16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
      {"vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
      {"opus.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS},
      {"layer3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
      {"pcm16.caf", SF_FORMAT_CAF | SF_FORMAT_PCM_16},
      {"pcm16.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16},
      {"pcm16.rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_16},
  };
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, format] : formats) {
    const int rate = (format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS ? 16000 : 8000;
    for (int channels : {1, 2}) {
      const std::string bytes = encoded_tone(format, rate, channels, 0.25);
      if (bytes.empty()) continue;
      // The harness reads the first byte as a flag (whole track or excerpt).
      out.push_back({std::to_string(channels) + "ch-" + name, std::string(1, '\1') + bytes});
    }
  }
  return out;
}

void write_npy_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path tmp = dir / "tmp.npy";
  genre::write_npy(tmp.string(), {4, 5}, std::vector<float>(20, -3.5f));
  put(dir / "mels-frames.npy", slurp(tmp.string()));
  genre::write_npy(tmp.string(), {1, 1, 3, 2}, {1, 2, 3, 4, 5, 6});
  put(dir / "nchw.npy", slurp(tmp.string()));
  fs::remove(tmp);
  std::string f8 = "\x93NUMPY\x01";
  f8 += '\0';
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }";
  std::string header = dict + std::string(64 - (10 + dict.size() + 1) % 64, ' ') + "\n";
  f8 += static_cast<char>(header.size());
  f8 += '\0';
  put(dir / "float64.npy", f8 + header + std::string(16, '\0'));
}

void write_dataset_seeds(const fs::path& dir) {
  put(dir / "csv",
      std::string(1, '\0') + "path,label,split\na/x.wav,rock,train\nb.wav,jazz;pop,test\n");
  put(dir / "tsv", std::string(1, '\1') + "# comment\nrock/rock.00001.wav\trock\tvalid\n\n");
  put(dir / "split", std::string(1, '\0') + "rock/rock.00001.wav,rock\r\n");
}

std::string multipart(const std::string& target, const std::string& file) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
      "filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n" +
      file + "\r\n--XyZ--\r\n";
  return "POST " + target +
         " HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
         "boundary=XyZ\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

void write_serve_seeds(const fs::path& dir) {
  const std::string wav = encoded_tone(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.1);
  put(dir / "multipart", multipart("/v1/classify?top_k=2&segments=1&hop=1", wav));
  put(dir / "raw", "POST /v1/features?whole=1 HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(wav.size()) + "\r\n\r\n" + wav);
  put(dir / "chunked",
      "POST /v1/classify?threshold=0.5 HTTP/1.1\r\nHost: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\nRIFF\r\n0\r\n\r\n");
  put(dir / "get", "GET /v1/model HTTP/1.1\r\nHost: x\r\n\r\n");
}

void write_model_seeds(const fs::path& dir) {
  genre::ModelInfo info;
  info.arch.n_mels = 8;
  info.arch.channels = {2, 2};
  info.arch.pools = {{2, 1}, {4, 1}};
  info.arch.gru_hidden = 3;
  info.arch.gru_layers = 1;
  info.arch.n_classes = 2;
  info.features.n_mels = 8;
  info.classes = {"a", "b"};
  fs::create_directories(dir);
  genre::save_model((dir / "tiny.pt").string(), genre::make_model(info));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  for (const auto& [name, bytes] : audio_seeds()) put(out / "audio" / name, bytes);
  write_npy_seeds(out / "npy");
  write_dataset_seeds(out / "dataset");
  write_serve_seeds(out / "serve_request");
  write_model_seeds(out / "model_file");
  std::cout << "seeds written to " << out << "\n";
  return 0;
}
