// genre: the public C++ API in one include, installed as <genre/genre.h>.
//
// Everything under include/genre/ is the library's public surface (docs/library.md): decoding,
// log-mel features, model files and inference, batched prediction. Headers elsewhere in src/ are
// private and may change in any release.
#pragma once

#include "audio/audio.h"
#include "common/error.h"
#include "features/feature_config.h"
#include "features/features.h"
#include "features/npy.h"
#include "model/inference.h"
#include "model/model_file.h"
#include "predict/predictor.h"
#include "predict/segments.h"
