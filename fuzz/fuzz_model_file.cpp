// libFuzzer entry point for genre::fuzz::model_file_one_input (see fuzz_targets.h).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  genre::fuzz::model_file_one_input(data, size);
  return 0;
}
