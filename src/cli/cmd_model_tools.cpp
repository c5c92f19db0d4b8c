// genre info / genre export: look inside model files and hand weights to Python.
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "model/model_file.h"
#include "predict/predictor.h"

namespace genre::cli {

void add_info_command(CLI::App& app, std::vector<Command>& commands) {
  auto path = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "info", "Print a model file's metadata (classes, architecture, features, training) as JSON");
  sub->add_option("model", *path, "Model file")->required();
  commands.push_back({sub, [path] {
                        const std::string file = resolve_model_argument(*path);
                        nlohmann::json meta = read_model_metadata(file);
                        Model m = load_model(file);
                        int64_t params = 0;
                        for (const auto& p : m.net->parameters()) params += p.numel();
                        meta["parameters"] = params;
                        std::cout << meta.dump(2) << "\n";
                        return kExitOk;
                      }});
}

void add_export_command(CLI::App& app, std::vector<Command>& commands) {
  struct ExportOptions {
    std::string model, out;
    bool state_dict = false;
  };
  auto o = std::make_shared<ExportOptions>();
  CLI::App* sub = app.add_subcommand(
      "export",
      "Export a model's weights for Python: torch.load(OUT) gives a dict of name -> tensor");
  sub->add_option("model", o->model, "Model file")->required();
  sub->add_option("-o,--out", o->out, "Output file (.pt)")->required();
  sub->add_flag("--state-dict", o->state_dict,
                "Write a name -> tensor dict (the only export format; the default)");
  sub->footer("Also writes OUT.json with the classes, architecture and feature config.");
  commands.push_back({sub, [o] {
                        const Model m = load_model(resolve_model_argument(o->model));
                        export_state_dict(m, o->out);
                        std::ofstream(o->out + ".json") << model_metadata(m.info).dump(2) << "\n";
                        std::cerr << "wrote " << o->out << " and " << o->out << ".json\n";
                        return kExitOk;
                      }});
}

}  // namespace genre::cli
