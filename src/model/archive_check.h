// genre/model: bounds checks on a model file's zip archive before LibTorch reads it.
//
// LibTorch's loader trusts the lengths written inside an archive: a pickled string claiming
// 1.6 GB, a memo index of 2^32 or a compressed record claiming 4 GB is allocated in full before
// the loader finds the bytes are not there (found by fuzz_model_file). These checks compare every
// such length with the bytes the file actually holds, so a corrupt file fails with a message
// instead of taking gigabytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace genre {

// Throws Error(kModelFile, path, ...) when the zip's directory points outside the file, a record
// claims more than it can hold, or a stored pickle carries a length or memo index past its end or
// pops more than its stack holds.
// Well-formed archives (every file LibTorch or PyTorch writes) pass unchanged.
void check_model_archive(const std::string& path);

// The pickle part alone: `what` names the record in the message. Opcodes it does not know end
// the scan (LibTorch rejects them itself); the lengths it can see are checked, and that no opcode
// takes more items from the stack (or from above its mark) than are there, which LibTorch's
// unpickler does not check.
void check_pickle_bounds(std::string_view bytes, const std::string& path, const std::string& what);

}  // namespace genre
