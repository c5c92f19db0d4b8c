// genre's fuzz targets: one function per entry point that reads outside data. The libFuzzer
// harnesses (fuzz_*.cpp) call them, and so does the normal test suite with every crash input
// kept under fuzz/regressions/, so a fixed crash stays fixed in builds without libFuzzer.
//
// Contract under test: each target either succeeds or throws genre::Error. Any other exception,
// a crash, a sanitizer report, a hang or a runaway allocation is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace genre::fuzz {

// Audio bytes (any format libsndfile reads) -> decode -> log-mel; the first byte picks the
// excerpt or the whole-track path.
void audio_one_input(const std::uint8_t* data, std::size_t size);

// .npy bytes -> read_npy and spectrogram_from_npy.
void npy_one_input(const std::uint8_t* data, std::size_t size);

// Manifest bytes -> load_dataset (CSV or TSV by the first byte), then the same bytes as a
// split list over the parsed dataset.
void dataset_one_input(const std::uint8_t* data, std::size_t size);

// A raw HTTP request -> cpp-httplib's parser -> genre serve's upload reader and query parser,
// and the upload through the decoder, as POST /v1/classify and /v1/features do.
void serve_request_one_input(const std::uint8_t* data, std::size_t size);

// Model file bytes -> read_model_metadata and load_model (LibTorch archive + genre metadata).
void model_file_one_input(const std::uint8_t* data, std::size_t size);

// A fresh scratch directory for targets that need real files (removed at exit).
const std::string& scratch_dir();

}  // namespace genre::fuzz
