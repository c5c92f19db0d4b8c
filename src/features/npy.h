// genre/features: read and write NumPy .npy arrays (the interchange format with Python).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "features.h"

namespace genre {

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // C order, converted to float32
};

// Reads a little-endian float32 or float64 .npy in C order; throws genre::Error otherwise.
NpyArray read_npy(const std::string& path);

// Writes float32 data with the given shape, atomically (no partial file on failure).
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape,
               const std::vector<float>& data);
void write_npy(const std::string& path, const Spectrogram& spectrogram);

// A [n_mels x frames] spectrogram from an .npy of shape (M, T), (1, M, T) or (1, 1, M, T).
Spectrogram spectrogram_from_npy(const std::string& path);

}  // namespace genre
