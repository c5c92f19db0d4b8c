// classify MODEL.pt AUDIO: the top genre of an audio file, using libgenre's public API only.
#include <genre/genre.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: classify MODEL.pt AUDIO\n");
    return 2;
  }
  try {
    genre::Model model = genre::load_model(argv[1]);
    // The model's own front end (sample rate, mels, excerpt) travels in its file.
    int valid_frames = 0;
    const genre::Spectrogram logmel =
        genre::extract_logmel(argv[2], model.info.features, /*whole=*/false, &valid_frames);
    const torch::Tensor p = genre::track_probabilities(model, {&logmel}, {valid_frames},
                                                       /*batch_size=*/16, torch::kCPU)[0];
    const int best = p.argmax().item<int>();
    std::printf("%s %.4f\n", model.info.classes[best].c_str(), p[best].item<float>());
    return 0;
  } catch (const genre::Error& e) {  // a missing or unreadable file, a foreign model, ...
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
  }
}
