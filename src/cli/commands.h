// genre/cli: each subcommand registers its options and a run function. Kept thin: the work is
// done by the library stages.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace genre::cli {

// Exit codes shared by all commands.
constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUsage = 2;

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

void add_features_command(CLI::App& app, std::vector<Command>& commands);
void add_train_command(CLI::App& app, std::vector<Command>& commands);
void add_evaluate_command(CLI::App& app, std::vector<Command>& commands);
void add_cv_command(CLI::App& app, std::vector<Command>& commands);
void add_predict_command(CLI::App& app, std::vector<Command>& commands);
void add_export_command(CLI::App& app, std::vector<Command>& commands);
void add_info_command(CLI::App& app, std::vector<Command>& commands);
void add_import_command(CLI::App& app, std::vector<Command>& commands);
void add_plot_command(CLI::App& app, std::vector<Command>& commands);
void add_serve_command(CLI::App& app, std::vector<Command>& commands);

}  // namespace genre::cli
