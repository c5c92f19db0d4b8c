// genre import keras-crnn: Choi's published MusicTaggerCRNN weights -> a genre model file.
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "model/keras_import.h"

namespace genre::cli {

void add_import_command(CLI::App& app, std::vector<Command>& commands) {
  struct ImportOptions {
    std::string weights, out, backend = "auto";
  };
  auto o = std::make_shared<ImportOptions>();
  CLI::App* group = app.add_subcommand("import", "Import published weights from other frameworks");
  group->require_subcommand(1);
  CLI::App* sub = group->add_subcommand(
      "keras-crnn",
      "Import Keunwoo Choi's MusicTaggerCRNN (Keras 1, MSD 50 tags, MIT licence) from its HDF5 "
      "weights\n"
      "(music_tagger_crnn_weights_{theano,tensorflow}.h5) into a genre model (a 50-tag tagger)");
  sub->add_option("weights", o->weights, "The .h5 weight file")->required();
  sub->add_option("-o,--out", o->out, "Model file to write")->required();
  sub->add_option("--backend", o->backend,
                  "Which Keras backend saved the file (theano kernels are flipped)")
      ->check(CLI::IsMember({"auto", "theano", "tensorflow"}))
      ->default_val("auto");
  sub->footer(
      "The model works everywhere a model does: genre predict --model OUT song.mp3 (tags), or\n"
      "genre train --init OUT to fine-tune it for genres. Keep the MIT notice with the weights.");
  commands.push_back({sub, [o] {
                        Model m = import_keras_crnn(o->weights, o->backend);
                        save_model(o->out, m);
                        std::cerr << "imported " << o->weights << " ("
                                  << m.info.provenance["backend"].get<std::string>()
                                  << " backend) -> " << o->out << "\n";
                        return kExitOk;
                      }});
}

}  // namespace genre::cli
