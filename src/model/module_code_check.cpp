#include "model/module_code_check.h"

#include "common/error.h"

namespace genre {

namespace {

bool starts_with(std::string_view s, std::string_view head) {
  return s.substr(0, head.size()) == head;
}

bool is_word(std::string_view s) {  // letters, digits and underscores
  if (s.empty()) return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

bool is_identifier(std::string_view s) { return is_word(s) && !(s[0] >= '0' && s[0] <= '9'); }

bool is_dotted(std::string_view s) {  // a.b.c
  for (std::size_t dot; (dot = s.find('.')) != std::string_view::npos; s.remove_prefix(dot + 1))
    if (!is_identifier(s.substr(0, dot))) return false;
  return is_identifier(s);
}

bool is_type(std::string_view t) {  // Tensor, str, __torch__.x.Module, Optional[Tensor]
  if (starts_with(t, "Optional[") && t.back() == ']') return is_dotted(t.substr(9, t.size() - 10));
  return is_dotted(t);
}

bool is_name_list(std::string_view s) {  // [] or ["weight", "bias", ]
  if (s.empty() || s[0] != '[') return false;
  s.remove_prefix(1);
  while (!s.empty() && s[0] == '"') {
    const std::size_t close = s.find('"', 1);
    if (close == std::string_view::npos || !is_identifier(s.substr(1, close - 1)) ||
        s.substr(close + 1, 2) != ", ")
      return false;
    s.remove_prefix(close + 3);
  }
  return s == "]";
}

bool is_declaration(std::string_view line) {
  if (line.empty()) return true;
  if (starts_with(line, "class ")) {
    const std::size_t open = line.find('(');
    return open != std::string_view::npos && is_identifier(line.substr(6, open - 6)) &&
           line.substr(open) == "(Module):";
  }
  if (!starts_with(line, "  ")) return false;
  line.remove_prefix(2);
  for (std::string_view list : {"__parameters__ = ", "__buffers__ = "})
    if (starts_with(line, list)) return is_name_list(line.substr(list.size()));
  if (line == "__annotations__ = []") return true;
  if (starts_with(line, "__annotations__[\"")) {  // __annotations__["0"] = __torch__.x.Module
    const std::size_t close = line.find("\"] = ");
    return close != std::string_view::npos && is_word(line.substr(17, close - 17)) &&
           is_dotted(line.substr(close + 5));
  }
  const std::size_t colon = line.find(" : ");  // name : Type
  return colon != std::string_view::npos && is_identifier(line.substr(0, colon)) &&
         is_type(line.substr(colon + 3));
}

}  // namespace

void check_module_code(std::string_view code, const std::string& path, const std::string& record) {
  int number = 1;
  for (std::size_t start = 0; start < code.size(); ++number) {
    std::size_t end = code.find('\n', start);
    if (end == std::string_view::npos) end = code.size();
    if (!is_declaration(code.substr(start, end - start)))
      throw Error(ErrorKind::kModelFile, path,
                  "corrupt model file ('" + record + "' line " + std::to_string(number) +
                      " is not a module declaration LibTorch writes)");
    start = end + 1;
  }
}

}  // namespace genre
