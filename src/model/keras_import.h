// genre/model: import Keunwoo Choi's published Keras CRNN (MusicTaggerCRNN, MSD 50 tags, MIT) from
// its HDF5 weight files into a regular genre model.
#pragma once

#include <string>

#include "model/model_file.h"

namespace genre {

// The 50 last.fm tags of MusicTaggerCRNN, in output order.
const std::vector<std::string>& choi_msd_tags();

// The architecture and front end of MusicTaggerCRNN as genre configs.
ArchConfig choi_crnn_arch();
FeatureConfig choi_crnn_features();

// Reads the weights (HDF5, Keras 1 save_weights layout). backend: "theano" (kernels are flipped),
// "tensorflow", or "auto" (from the dataset names). Every dataset's name and shape is checked;
// problems throw genre::Error(kModelFile) naming the dataset.
Model import_keras_crnn(const std::string& h5_path, const std::string& backend = "auto");

}  // namespace genre
