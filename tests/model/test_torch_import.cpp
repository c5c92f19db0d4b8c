// The sota CRNN taggers imported from their PyTorch state_dicts compute what PyTorch computes:
// all 50 tag probabilities within 1e-4 of the original model run by /usr/bin/python3 (torch +
// torchaudio) on the same 16 kHz signals; and bad files get clear errors.
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "common/error.h"
#include "features/features.h"
#include "model/inference.h"
#include "model/torch_import.h"
#include "support/test_support.h"

namespace genre {
namespace {

namespace fs = std::filesystem;

std::string sota(const std::string& corpus, const std::string& file) {
  return test::shared_dir() + "/pretrained/sota/" + corpus + "/" + file;
}

bool python_torch_available() {
  return test::run_command("/usr/bin/python3 -c 'import torch, torchaudio, numpy' 2>/dev/null") ==
         0;
}

// The music clips of ../shared/audio and three GTZAN clips.
std::vector<std::string> reference_clips() {
  std::vector<std::string> clips;
  for (const auto& e : fs::directory_iterator(test::shared_dir() + "/audio"))
    if (e.is_regular_file() && has_audio_extension(e.path().string()))
      clips.push_back(e.path().string());
  std::sort(clips.begin(), clips.end());
  for (const char* g : {"blues/blues.00000", "classical/classical.00000", "metal/metal.00000"})
    clips.push_back(test::shared_dir() + "/gtzan/" + g + ".flac");
  return clips;
}

void write_f32(const std::string& path, const std::vector<float>& x) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * 4));
}

TEST(TorchImport, MatchesPyTorchOnRealAudio) {
  GENRE_REQUIRE_SHARED();
  if (!python_torch_available())
    GTEST_SKIP() << "/usr/bin/python3 with torch, torchaudio and numpy is needed for the reference";
  test::TempDir dir;
  const auto clips = reference_clips();
  ASSERT_GE(clips.size(), 8u);
  const FeatureConfig features = sota_crnn_features();
  std::vector<std::vector<float>> signals;
  std::string signal_args;
  for (std::size_t i = 0; i < clips.size(); ++i) {
    signals.push_back(
        load_middle_excerpt(clips[i], features.sample_rate, features.excerpt_samples));
    const std::string path = dir.file("signal" + std::to_string(i) + ".f32");
    write_f32(path, signals.back());
    signal_args += " " + path;
  }
  for (const std::string corpus : {"msd", "jamendo"}) {
    SCOPED_TRACE(corpus);
    const std::string ref = dir.file(corpus + ".json");
    std::string err;
    ASSERT_EQ(test::run_command("/usr/bin/python3 " GENRE_SOURCE_DIR
                                "/tests/model/sota_crnn_reference.py " +
                                    sota(corpus, "crnn/best_model.pth") + " " + ref + signal_args,
                                nullptr, &err),
              0)
        << err;
    std::ifstream in(ref);
    const auto expected = nlohmann::json::parse(in)["results"];
    Model model = import_torch_crnn(sota(corpus, "crnn/best_model.zip.pth"),
                                    read_tag_list(sota(corpus, "tags.txt")));
    Model fast = import_torch_crnn(sota(corpus, "crnn/best_model.zip.pth"),
                                   read_tag_list(sota(corpus, "tags.txt")));
    prepare_for_inference(fast.net);  // the form genre predict runs
    double worst = 0, worst_fast = 0;
    for (std::size_t i = 0; i < clips.size(); ++i) {
      SCOPED_TRACE(clips[i]);
      const Spectrogram s = logmel_whole(signals[i], features);
      ASSERT_EQ(s.n_frames, 1813);
      const torch::Tensor p = track_probabilities(model, {&s}, {}, 1, torch::kCPU)[0];
      const torch::Tensor q = track_probabilities(fast, {&s}, {}, 1, torch::kCPU)[0];
      const auto want = expected[i]["probabilities"].get<std::vector<double>>();
      ASSERT_EQ(want.size(), 50u);
      for (int c = 0; c < 50; ++c) {
        worst = std::max(worst, std::abs(p[c].item<double>() - want[c]));
        worst_fast = std::max(worst_fast, std::abs(q[c].item<double>() - want[c]));
      }
      // The file pipeline (decode, resample, excerpt, log-mel) gives the same spectrogram.
      const Spectrogram from_file = extract_logmel(clips[i], features);
      ASSERT_EQ(from_file.data.size(), s.data.size());
      EXPECT_EQ(from_file.data, s.data);
    }
    std::printf(
        "[ %s ] largest difference from PyTorch over %zu clips x 50 tags: %.2e (eval), "
        "%.2e (inference form)\n",
        corpus.c_str(), clips.size(), worst, worst_fast);
    EXPECT_LT(worst, 1e-4);
    EXPECT_LT(worst_fast, 1e-4);
  }
}

TEST(TorchImport, HtkFilterbankMatchesTheStoredMatrix) {
  GENRE_REQUIRE_SHARED();
  const std::vector<char> bytes = [] {
    std::ifstream in(sota("msd", "crnn/best_model.zip.pth"), std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
  }();
  const auto dict = torch::pickle_load(bytes).toGenericDict();
  const torch::Tensor fb = dict.at("spec.mel_scale.fb").toTensor();  // [257, 96]
  std::vector<float> ours = htk_mel_filterbank(sota_crnn_features());
  const torch::Tensor mine = torch::from_blob(ours.data(), {96, 257}).t();
  const double diff = (fb - mine).abs().max().item<double>();
  std::printf("[ htk ] largest difference from the stored mel matrix: %.2e\n", diff);
  EXPECT_LT(diff, 2e-5);  // float32 rounding in the torchaudio that made it
}

// Rewrites the MSD state_dict with `edit` applied and returns the new file's path.
std::string edited_state_dict(
    const test::TempDir& dir,
    const std::function<void(c10::Dict<std::string, at::Tensor>&)>& edit) {
  std::ifstream in(sota("msd", "crnn/best_model.zip.pth"), std::ios::binary);
  const std::vector<char> bytes(std::istreambuf_iterator<char>(in), {});
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& item : torch::pickle_load(bytes).toGenericDict())
    dict.insert(item.key().toStringRef(), item.value().toTensor());
  edit(dict);
  const std::vector<char> out = torch::pickle_save(c10::IValue(dict));
  const std::string path = dir.file("edited.pth");
  std::ofstream(path, std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
  return path;
}

std::string import_error(const std::string& path, const std::vector<std::string>& tags) {
  try {
    import_torch_crnn(path, tags);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind() == ErrorKind::kModelFile || e.kind() == ErrorKind::kNotFound, true);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return "";
}

TEST(TorchImport, BadFilesGetClearErrors) {
  GENRE_REQUIRE_SHARED();
  test::TempDir dir;
  const auto tags = read_tag_list(sota("msd", "tags.txt"));
  auto has = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  // Missing tensor, wrong shape, unexpected tensor, wrong mel matrix.
  std::string e =
      import_error(edited_state_dict(dir, [](auto& d) { (void)d.erase("layer3.bn.running_var"); }), tags);
  EXPECT_TRUE(has(e, "missing tensor 'layer3.bn.running_var'")) << e;
  e = import_error(
      edited_state_dict(dir,
                        [](auto& d) { d.insert_or_assign("layer2.conv.bias", torch::zeros({7})); }),
      tags);
  EXPECT_TRUE(has(e, "'layer2.conv.bias' has shape [7]")) << e;
  e = import_error(
      edited_state_dict(dir, [](auto& d) { d.insert("layer6.conv.weight", torch::zeros({1})); }),
      tags);
  EXPECT_TRUE(has(e, "unexpected tensor 'layer6.conv.weight'")) << e;
  e = import_error(
      edited_state_dict(dir,
                        [](auto& d) {
                          d.insert_or_assign("spec.mel_scale.fb", torch::rand({257, 96}));
                        }),
      tags);
  EXPECT_TRUE(has(e, "HTK mel")) << e;
  // Tag count, legacy format, not a state_dict, missing file.
  e = import_error(sota("msd", "crnn/best_model.zip.pth"), {"rock", "pop"});
  EXPECT_TRUE(has(e, "50 outputs but 2 tag names")) << e;
  e = import_error(sota("msd", "crnn/best_model.pth"), tags);
  EXPECT_TRUE(has(e, "legacy")) << e;
  {
    const std::vector<char> list = torch::pickle_save(c10::IValue(std::vector<int64_t>{1, 2}));
    std::ofstream(dir.file("list.pth"), std::ios::binary)
        .write(list.data(), static_cast<std::streamsize>(list.size()));
  }
  e = import_error(dir.file("list.pth"), tags);
  EXPECT_TRUE(has(e, "state_dict")) << e;
  test::write_bytes(dir.file("trunc.pth"), std::string("PK\x03\x04garbage", 11));
  e = import_error(dir.file("trunc.pth"), tags);
  EXPECT_TRUE(has(e, "corrupt")) << e;
  e = import_error(dir.file("absent.pth"), tags);
  EXPECT_TRUE(has(e, "no such file")) << e;
}

}  // namespace
}  // namespace genre
