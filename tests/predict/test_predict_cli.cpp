// `genre predict` end to end: the shipped model on the examples, every output format, shards,
// a run killed with SIGKILL and resumed, corrupt inputs among good ones, .npy inputs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "predict/resume.h"
#include "support/picture_check.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

std::string shipped_model() { return std::string(GENRE_SOURCE_DIR) + "/models/genre-gtzan.pt"; }

// A folder of short generated clips (+ optionally a corrupt one).
void make_clips(const std::string& dir, int n, bool with_corrupt) {
  fs::create_directories(dir);
  for (int i = 0; i < n; ++i)
    test::write_audio(dir + "/clip" + std::to_string(100 + i) + ".wav",
                      test::sine(200 + 37 * i, 3.0, 22050), 22050, 1,
                      SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  if (with_corrupt) {
    test::write_bytes(dir + "/broken.wav", "RIFF....WAVEfmt garbage");
    test::write_bytes(dir + "/empty.flac", "");
  }
}

std::vector<nlohmann::json> parse_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

class PredictCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(shipped_model())) GTEST_SKIP() << "shipped model missing: " << shipped_model();
  }
  std::string cmd() { return test::genre_binary() + " predict -m " + shipped_model() + " -q "; }
  // The from-scratch CRNN: 2 s crops (crop averaging, windows of segments) on genre's default
  // 12 kHz features (the .npy files of `genre features`).
  std::string crnn_cmd() {
    return test::genre_binary() + " predict -m " + GENRE_SOURCE_DIR + "/models/genre-crnn.pt -q ";
  }
};

TEST_F(PredictCli, ShippedModelOnTheExamples) {
  const std::string examples = std::string(GENRE_SOURCE_DIR) + "/examples";
  ASSERT_TRUE(fs::exists(examples + "/synth_pop.wav")) << "run scripts/make-examples";
  std::string out, err;
  // No --model: the shipped model is found next to the binary / in the source tree.
  ASSERT_EQ(test::run_command(test::genre_binary() + " predict -q --json " + examples, &out, &err),
            0)
      << err;
  const auto doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["schema"], "genre.predictions");
  EXPECT_EQ(doc["version"], 2);
  ASSERT_EQ(doc["predictions"].size(), 4u);
  for (const auto& p : doc["predictions"]) {
    EXPECT_TRUE(p["ok"].get<bool>());
    EXPECT_EQ(p["top"].size(), 3u);
    double sum = 0;
    for (auto& [label, prob] : p["probabilities"].items()) sum += prob.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-4);
  }
  // The top genres documented in examples/README.md.
  // synth_pop.wav sits on a tie (disco 0.43, rock 0.42): either of the two is its answer.
  const std::map<std::string, std::set<std::string>> documented = {
      {"synth_pop.wav", {"disco", "rock"}},
      {"slow_strings.wav", {"jazz"}},
      {"noisy_rock.wav", {"rock"}},
      {"stereo_44k.flac", {"jazz"}}};
  for (const auto& p : doc["predictions"]) {
    const std::string name = fs::path(p["input"].get<std::string>()).filename().string();
    EXPECT_EQ(documented.at(name).count(p["label"].get<std::string>()), 1u) << name;
  }
  ASSERT_EQ(test::run_command(test::genre_binary() + " predict " + examples + "/synth_pop.wav",
                              &out, &err),
            0);
  EXPECT_NE(out.find("%"), std::string::npos) << out;  // the terminal table shows percentages
}

// bf16 autocast (--precision bf16) keeps the shipped model's answers on the examples.
TEST_F(PredictCli, Bf16PrecisionKeepsTheTopGenres) {
  const std::string examples = std::string(GENRE_SOURCE_DIR) + "/examples";
  ASSERT_TRUE(fs::exists(examples + "/synth_pop.wav")) << "run scripts/make-examples";
  std::string fp32, bf16, err;
  ASSERT_EQ(
      test::run_command(test::genre_binary() + " predict -q --jsonl " + examples, &fp32, &err), 0)
      << err;
  ASSERT_EQ(
      test::run_command(test::genre_binary() + " predict -q --jsonl --precision bf16 " + examples,
                        &bf16, &err),
      0)
      << err;
  std::istringstream a(fp32), b(bf16);
  std::string la, lb;
  int n = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    const auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    // The top genre must stay where fp32 has a clear winner (bf16 moves probabilities ~1e-2).
    std::vector<double> ps;
    for (auto& [label, p] : ja["probabilities"].items()) ps.push_back(p.get<double>());
    std::sort(ps.rbegin(), ps.rend());
    if (ps[0] - ps[1] > 0.05) {
      EXPECT_EQ(ja["label"], jb["label"]) << la << "\n" << lb;
    }
    for (auto& [label, p] : ja["probabilities"].items())
      EXPECT_NEAR(p.get<double>(), jb["probabilities"][label].get<double>(), 0.05) << label;
    ++n;
  }
  EXPECT_EQ(n, 4);
  EXPECT_NE(test::run_command(test::genre_binary() + " predict -q --precision fp16 --device cpu " +
                                  examples + "/synth_pop.wav",
                              nullptr, &err),
            0);
  EXPECT_NE(err.find("fp16 runs on CUDA only"), std::string::npos) << err;
}

// The shipped model on real music it never saw (models/README.md): the labelled songs it gets
// right stay right.
TEST_F(PredictCli, ShippedModelOnRealSongs) {
  GENRE_REQUIRE_SHARED();
  const std::string audio = test::shared_dir() + "/audio/";
  const std::map<std::string, std::string> truth = {
      {"Brahms_-_Hungarian_Dance_5.ogg", "classical"},
      {"Kevin_MacLeod_-_Sugar_Plum_Fairy.ogg", "classical"},
      {"Kevin_MacLeod_-_Vibe_Ace.ogg", "jazz"},
      {"sorohanro_-_solo-trumpet-06.ogg", "jazz"},
      {"formats/lets_go_fishin_30s_48000_stereo_s24.wav", "country"}};
  std::string inputs;
  for (const auto& [file, genre] : truth) inputs += " " + audio + file;
  std::string out, err;
  ASSERT_EQ(test::run_command(test::genre_binary() + " predict -q --json" + inputs, &out, &err), 0)
      << err;
  const auto doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc["predictions"].size(), truth.size());
  for (const auto& p : doc["predictions"]) {
    const std::string input = p["input"];
    EXPECT_EQ(p["label"], truth.at(input.substr(audio.size()))) << input;
  }
}

TEST_F(PredictCli, EveryFormatParsesAndCorruptFilesAreReported) {
  test::TempDir dir;
  make_clips(dir.file("in"), 3, true);
  std::string out, err;
  EXPECT_EQ(test::run_command(cmd() + "--jsonl " + dir.file("in"), &out, &err), 1);
  auto lines = parse_lines(out);
  ASSERT_EQ(lines.size(), 5u);
  int errors = 0;
  for (const auto& l : lines) {
    EXPECT_EQ(l["version"], 2);
    if (!l["ok"].get<bool>()) {
      ++errors;
      EXPECT_TRUE(l["error"].contains("kind"));
    }
  }
  EXPECT_EQ(errors, 2);
  EXPECT_NE(err.find("broken.wav"), std::string::npos) << err;
  EXPECT_NE(err.find("empty.flac"), std::string::npos) << err;

  EXPECT_EQ(test::run_command(cmd() + "--json -k 5 " + dir.file("in"), &out, &err), 1);
  const auto doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["predictions"].size(), 5u);
  EXPECT_EQ(doc["predictions"][2]["top"].size(), 5u);

  EXPECT_EQ(test::run_command(cmd() + "--csv -o " + dir.file("out.csv") + " " + dir.file("in"),
                              &out, &err),
            1);
  std::ifstream csv(dir.file("out.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header,
            "input,ok,label_1,probability_1,label_2,probability_2,label_3,probability_3,error");
  int rows = 0;
  for (std::string line; std::getline(csv, line); ++rows) {
    // Quoted fields aside, every row has the header's column count.
    if (line.find('"') == std::string::npos) {
      EXPECT_EQ(std::count(line.begin(), line.end(), ','), 8) << line;
    }
  }
  EXPECT_EQ(rows, 5);

  EXPECT_EQ(test::run_command(cmd() + "--json --csv " + dir.file("in")), 2);
}

TEST_F(PredictCli, ShardsCoverEveryInputOnce) {
  test::TempDir dir;
  make_clips(dir.file("in"), 10, false);
  std::multiset<std::string> seen;
  for (int i = 1; i <= 3; ++i) {
    std::string out;
    ASSERT_EQ(test::run_command(
                  cmd() + "--jsonl --shard " + std::to_string(i) + "/3 " + dir.file("in"), &out),
              0);
    for (const auto& l : parse_lines(out)) seen.insert(l["input"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 10u);
  EXPECT_EQ(test::run_command(cmd() + "--shard 4/3 " + dir.file("in")), 2);
}

TEST_F(PredictCli, KilledRunResumesWithNothingLostOrRepeated) {
  test::TempDir dir;
  make_clips(dir.file("in"), 24, false);
  std::string full;
  ASSERT_EQ(test::run_command(cmd() + "--jsonl --jobs 1 " + dir.file("in"), &full), 0);
  const auto expected = parse_lines(full);

  const std::string out = dir.file("out.jsonl");
  std::system((cmd() + "--jsonl --jobs 1 --batch-size 1 -o " + out + " " + dir.file("in") +
               " > /dev/null 2>&1 & echo $! > " + dir.file("pid"))
                  .c_str());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((!fs::exists(out) || fs::file_size(out) < 600) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::ifstream pid_file(dir.file("pid"));
  int pid = 0;
  pid_file >> pid;
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Simulate the worst moment too: a half-written last line.
  std::ofstream(out, std::ios::app) << "{\"version\":1,\"input\":\"" << dir.file("in") << "/clip1";

  ASSERT_EQ(test::run_command(cmd() + "--jsonl --resume -o " + out + " " + dir.file("in")), 0);
  std::ifstream in(out);
  std::string text(std::istreambuf_iterator<char>(in), {});
  const auto lines = parse_lines(text);  // throws if any line is torn
  ASSERT_EQ(lines.size(), expected.size());
  std::map<std::string, nlohmann::json> by_input;
  for (const auto& l : lines) by_input[l["input"]] = l;
  EXPECT_EQ(by_input.size(), expected.size());
  for (const auto& e : expected) {
    ASSERT_TRUE(by_input.count(e["input"]));
    EXPECT_EQ(by_input[e["input"]]["label"], e["label"]);
  }
}

TEST_F(PredictCli, SegmentsTimelineAndPlot) {
  test::TempDir dir;
  auto y = test::sine(440, 70.0, 12000);
  test::write_audio(dir.file("long.wav"), y, 12000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::string out, err;
  // The defaults: 10 s windows every 5 s, each the mean of the model's crops inside it.
  const std::string png = test::artifact_dir() + "/predict-cli-timeline.png";
  ASSERT_EQ(
      test::run_command(crnn_cmd() + "--json --segments --plot " + png + " " + dir.file("long.wav"),
                        &out, &err),
      0)
      << err;
  const auto p = nlohmann::json::parse(out)["predictions"][0];
  const auto& segments = p["segments"];
  EXPECT_EQ(segments["window_seconds"], 10.0);
  EXPECT_EQ(segments["hop_seconds"], 5.0);
  EXPECT_EQ(segments["smooth"], 0);
  const auto& windows = segments["windows"];
  ASSERT_EQ(windows.size(), 13u);  // 0-10 ... 60-70
  EXPECT_NEAR(windows[1]["start"].get<double>() - windows[0]["start"].get<double>(), 5.0, 1e-9);
  EXPECT_NEAR(windows.back()["end"].get<double>(), p["seconds"].get<double>(), 1e-6);
  EXPECT_GE(windows[0]["crops"].get<int>(), 8);  // 2 s crops every 1 s in 10 s
  test::DecodedPng picture;
  ASSERT_TRUE(test::decode_png(png, &picture, &err)) << err;
  EXPECT_GT(picture.width, 800);

  // Other windows, smoothing, and the terminal timeline: one line per window.
  ASSERT_EQ(test::run_command(crnn_cmd() +
                                  "--json --segments --segment-seconds 20 --segment-hop 10 "
                                  "--segment-smooth 1 " +
                                  dir.file("long.wav"),
                              &out),
            0);
  const auto q = nlohmann::json::parse(out)["predictions"][0]["segments"];
  EXPECT_EQ(q["window_seconds"], 20.0);
  EXPECT_EQ(q["windows"].size(), 6u);  // 0-20 ... 50-70
  EXPECT_EQ(q["windows"][0]["smoothed"].size(), q["classes"].size());
  ASSERT_EQ(test::run_command(crnn_cmd() + "--segments " + dir.file("long.wav"), &out), 0);
  int lines = 0;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.find("%") != std::string::npos && line.find(":") != std::string::npos &&
        line.find("#") != std::string::npos)
      ++lines;
  EXPECT_EQ(lines, 13) << out;
  EXPECT_NE(out.find("0:00-0:10"), std::string::npos) << out;
  EXPECT_EQ(
      test::run_command(crnn_cmd() + "--segments --segment-seconds 0 " + dir.file("long.wav")), 2);
  EXPECT_EQ(
      test::run_command(crnn_cmd() + "--segments --segment-smooth -1 " + dir.file("long.wav")), 2);
}

TEST_F(PredictCli, NpyInputsSkipTheFrontEnd) {
  test::TempDir dir;
  make_clips(dir.file("in"), 1, false);
  ASSERT_EQ(test::run_command(test::genre_binary() + " features -q " + dir.file("in") + " -o " +
                              dir.file("feat")),
            0);
  std::string a, b;
  ASSERT_EQ(test::run_command(crnn_cmd() + "--jsonl " + dir.file("in/clip100.wav"), &a), 0);
  ASSERT_EQ(test::run_command(crnn_cmd() + "--jsonl " + dir.file("feat/clip100.npy"), &b), 0);
  const auto ja = parse_lines(a)[0], jb = parse_lines(b)[0];
  for (auto& [label, p] : ja["probabilities"].items())
    EXPECT_NEAR(p.get<double>(), jb["probabilities"][label].get<double>(), 1e-5);
}

TEST(Shard, ParseAndSelect) {
  EXPECT_EQ(parse_shard("2/5"), std::make_pair(2, 5));
  EXPECT_THROW(parse_shard("0/5"), std::exception);
  EXPECT_THROW(parse_shard("x"), std::exception);
  std::vector<std::string> inputs;
  for (int i = 0; i < 100; ++i) inputs.push_back("/music/" + std::to_string(i) + ".mp3");
  std::size_t total = 0;
  for (int i = 1; i <= 4; ++i) total += select_shard(inputs, i, 4).size();
  EXPECT_EQ(total, 100u);
}

TEST(Resume, RepairsATornLastLine) {
  test::TempDir dir;
  std::ofstream(dir.file("r.jsonl")) << "{\"input\":\"a\"}\n{\"input\":\"b\"}\n{\"input\":\"c";
  const auto done = repair_jsonl_and_list_inputs(dir.file("r.jsonl"));
  EXPECT_EQ(done, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(fs::file_size(dir.file("r.jsonl")), 28u);  // two complete 14-byte lines
  EXPECT_TRUE(repair_jsonl_and_list_inputs(dir.file("none.jsonl")).empty());
}

}  // namespace
}  // namespace genre
