// genre/predict: genre over time (`genre predict --segments`) as JSON, as terminal lines and as a
// picture.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/draw.h"
#include "predict/predictor.h"

namespace genre {

// The "segments" object of a prediction record (docs/predict-output.md).
nlohmann::json segments_json(const Segments& s, const std::vector<std::string>& classes);

// One line per window: time span, top genre, a bar of its probability, the runner-up.
std::string timeline_text(const Prediction& p, const ModelInfo& model);

// The picture: genres x time with a colour scale, the whole track's top genres, the song's name
// and duration (.svg or .png).
PictureLayout plot_segments(const Prediction& p, const ModelInfo& model, const std::string& path);

// "2:05" (minutes:seconds, rounded).
std::string clock_time(double seconds);

}  // namespace genre
