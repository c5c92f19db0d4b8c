// genre/model: import the PyTorch CRNN taggers of Won et al., "Evaluation of CNN-based automatic
// music tagging models" (SMC 2020; minzwon/sota-music-tagging-models, MIT), trained on the Million
// Song Dataset or MTG-Jamendo, from their state_dict into a regular genre model.
//
// The computation imported exactly: 16 kHz, power STFT 512/256 (periodic Hann, centred, reflect
// padding), HTK mel 0-8 kHz without normalisation, 10*log10(max(mel, 1e-10)) without top_db,
// BatchNorm2d(1) over the image, four 3x3 conv -> BN -> ReLU -> max-pool blocks with pools
// (2,2), (3,3), (4,4), (4,4), a 2-layer GRU read at its last step, a dense layer with sigmoid.
#pragma once

#include <string>
#include <vector>

#include "model/model_file.h"

namespace genre {

// The front end of the sota CRNNs as a genre FeatureConfig (excerpt: 464,000 samples = 29 s).
FeatureConfig sota_crnn_features();

// Reads a state_dict saved by torch.save in the zip format (PyTorch >= 1.6). Every tensor name
// and shape is checked, and the stored window and mel matrix are compared with the front end
// genre computes; problems throw genre::Error(kModelFile) naming the tensor. `tags` are the output
// names (one per output, in order). A legacy (pre-1.6) file gets an error saying how to convert it.
Model import_torch_crnn(const std::string& path, const std::vector<std::string>& tags);

// One tag per non-empty line.
std::vector<std::string> read_tag_list(const std::string& path);

// The MIT notice of minzwon/sota-music-tagging-models, which must travel with the weights.
const char* sota_mit_notice();

}  // namespace genre
