// genre import keras-crnn | torch-crnn: published tagger weights -> a genre model file.
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "model/keras_import.h"
#include "model/torch_import.h"

namespace genre::cli {

namespace {

void add_torch_import(CLI::App* group, std::vector<Command>& commands) {
  struct TorchOptions {
    std::string weights, tags, out, name;
  };
  auto o = std::make_shared<TorchOptions>();
  CLI::App* sub = group->add_subcommand(
      "torch-crnn",
      "Import a CRNN tagger of minzwon/sota-music-tagging-models (PyTorch state_dict; MIT\n"
      "licence), e.g. the MSD or MTG-Jamendo top-50 taggers, into a genre model (a tagger)");
  sub->add_option("weights", o->weights,
                  "The state_dict saved by torch.save in the zip format (best_model.zip.pth)")
      ->required();
  sub->add_option("--tags", o->tags, "Tag names, one per line in output order (tags.txt)")
      ->required();
  sub->add_option("-o,--out", o->out, "Model file to write")->required();
  sub->add_option("--name", o->name, "A short name stored in the model (e.g. msd-tags)");
  sub->footer(
      "The front end is checked against the stored window and mel matrix; every tensor name and\n"
      "shape is validated. The model works everywhere a model does: genre predict --model OUT\n"
      "song.mp3 shows tags; genre train/cv --backbone OUT builds genre classifiers on its\n"
      "layer features. The MIT notice is stored in the model (genre info OUT); keep it with\n"
      "copies. A legacy (pre-1.6) best_model.pth must first be re-saved in the zip format:\n"
      "  python3 -c \"import torch; torch.save(torch.load('best_model.pth', "
      "map_location='cpu'), 'best_model.zip.pth')\"");
  commands.push_back({sub, [o] {
                        Model m = import_torch_crnn(o->weights, read_tag_list(o->tags));
                        if (!o->name.empty()) m.info.provenance["name"] = o->name;
                        save_model(o->out, m);
                        std::cerr << "imported " << o->weights << " (" << m.info.classes.size()
                                  << " tags) -> " << o->out << "\n";
                        return kExitOk;
                      }});
}

}  // namespace

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
  add_torch_import(group, commands);
}

}  // namespace genre::cli
