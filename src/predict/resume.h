// genre/predict: splitting a collection over machines and resuming interrupted runs.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace genre {

// Parses "I/N" (1 <= I <= N). Throws genre::Error(kInvalidArgument).
std::pair<int, int> parse_shard(const std::string& text);

// Inputs of shard I of N: those whose path hashes (FNV-1a) to I-1 modulo N. The choice depends
// only on the path, so machines listing the same collection in different orders agree, and the
// N shards cover every input exactly once.
std::vector<std::string> select_shard(const std::vector<std::string>& inputs, int index, int count);

// Prepares a JSONL file for appending: drops a torn last line (a run killed mid-write) and
// returns the inputs that already have a record. A missing file yields an empty set.
std::set<std::string> repair_jsonl_and_list_inputs(const std::string& path);

}  // namespace genre
