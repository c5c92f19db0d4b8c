// The model-file target lives apart: it is the only one that needs LibTorch.
#include "common/error.h"
#include "fuzz_targets.h"
#include "model/model_file.h"
#include "serve/memory_file.h"

namespace genre::fuzz {

void model_file_one_input(const std::uint8_t* data, std::size_t size) {
  try {
    serve::MemoryFile file(std::string(reinterpret_cast<const char*>(data), size));
    read_model_metadata(file.path());
    load_model(file.path(), torch::kCPU);
  } catch (const Error&) {
  }
}

}  // namespace genre::fuzz
