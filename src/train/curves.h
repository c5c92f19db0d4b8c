// genre/train: the training-curves picture (loss | accuracy per epoch), from a run's history or
// from its log (`genre train --log`, one EpochStats JSON object per line).
#pragma once

#include <string>
#include <vector>

#include "common/draw.h"
#include "train/trainer.h"

namespace genre {

// has_validation false: the run had no validation set (its valid_loss is 0 and valid_score is the
// training accuracy), so only the training curves are drawn.
PictureLayout plot_training_curves(const std::vector<EpochStats>& history, bool has_validation,
                                   const std::string& path, const std::string& title);

// Reads a training log; throws genre::Error on a missing file or a malformed line.
std::vector<EpochStats> read_training_log(const std::string& path);

// Whether a logged run had a validation set (some epoch has a non-zero validation loss).
bool log_has_validation(const std::vector<EpochStats>& history);

}  // namespace genre
