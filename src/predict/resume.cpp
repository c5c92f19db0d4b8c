#include "predict/resume.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/error.h"

namespace genre {

std::pair<int, int> parse_shard(const std::string& text) {
  std::smatch m;
  if (!std::regex_match(text, m, std::regex(R"((\d+)/(\d+))")))
    throw Error(ErrorKind::kInvalidArgument, "", "--shard must look like I/N, e.g. 2/8");
  const int i = std::stoi(m[1]), n = std::stoi(m[2]);
  if (n < 1 || i < 1 || i > n)
    throw Error(ErrorKind::kInvalidArgument, "", "--shard I/N needs 1 <= I <= N");
  return {i, n};
}

std::vector<std::string> select_shard(const std::vector<std::string>& inputs, int index,
                                      int count) {
  std::vector<std::string> out;
  for (const auto& s : inputs) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    if (static_cast<int>(h % static_cast<std::uint64_t>(count)) == index - 1) out.push_back(s);
  }
  return out;
}

std::set<std::string> repair_jsonl_and_list_inputs(const std::string& path) {
  std::set<std::string> done;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return done;
  std::uintmax_t good_bytes = 0;
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    std::uintmax_t pos = 0;
    while (std::getline(in, line)) {
      const bool complete = !in.eof();  // getline stopped at a '\n'
      const std::uintmax_t next = pos + line.size() + (complete ? 1 : 0);
      if (!complete) break;  // torn last line: no newline
      try {
        const auto j = nlohmann::json::parse(line);
        done.insert(j.at("input").get<std::string>());
      } catch (const std::exception&) {
        break;  // a damaged line ends the trustworthy part
      }
      good_bytes = next;
      pos = next;
    }
  }
  if (good_bytes != std::filesystem::file_size(path, ec))
    std::filesystem::resize_file(path, good_bytes, ec);
  if (ec) throw Error(ErrorKind::kIo, path, "cannot repair: " + ec.message());
  return done;
}

}  // namespace genre
