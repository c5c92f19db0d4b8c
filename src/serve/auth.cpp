#include "serve/auth.h"

#include <cctype>
#include <fstream>

#include "common/error.h"

namespace genre::serve {

namespace {

std::string trim(const std::string& s) {
  const char* space = " \t\r\n";
  const auto first = s.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

}  // namespace

std::string read_api_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kNotFound, path, "cannot open the API key file");
  std::string line;
  std::getline(in, line);
  const std::string key = trim(line);
  if (key.empty()) throw Error(ErrorKind::kInvalidArgument, path, "the API key file is empty");
  return key;
}

bool constant_time_equals(const std::string& given, const std::string& secret) {
  // Always walks the secret's length (the given string is read cyclically), so the time depends
  // neither on where the strings differ nor on the given length; a length mismatch is folded in.
  volatile unsigned char diff = given.size() == secret.size() ? 0 : 1;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const unsigned char x = given.empty() ? 0 : static_cast<unsigned char>(given[i % given.size()]);
    diff = diff | (x ^ static_cast<unsigned char>(secret[i]));
  }
  return diff == 0;
}

bool authorized(const std::string& authorization, const std::string& key) {
  const std::string scheme = "Bearer ";
  if (authorization.size() < scheme.size()) return false;
  std::string given_scheme = authorization.substr(0, scheme.size());
  for (auto& c : given_scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool scheme_ok = given_scheme == "bearer ";
  const bool key_ok = constant_time_equals(trim(authorization.substr(scheme.size())), key);
  return scheme_ok & key_ok;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace genre::serve
