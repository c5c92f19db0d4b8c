// genre/model: the TorchScript code a genre model file may carry.
//
// LibTorch stores, next to the weights, the TorchScript source declaring each module's fields
// ("class Module(Module): weight : Tensor ...") and compiles it when loading. Its compiler is not
// hardened against hostile source: a declaration with a mutated name made it crash (SEGV in
// ScriptTypeParser::parseClassConstant, found by fuzz_model_file). genre's models have no methods,
// so their code is only such declarations; anything else is refused before LibTorch parses it.
#pragma once

#include <string>
#include <string_view>

namespace genre {

// Throws Error(kModelFile, path, ...) naming the record and line unless every line of `code` is
// one LibTorch writes for a module's fields: the class line, __parameters__ / __buffers__ lists,
// __annotations__ entries, and "name : Type" declarations.
void check_module_code(std::string_view code, const std::string& path, const std::string& record);

}  // namespace genre
