// genre: music genre classification with a CRNN over log-mel spectrograms.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/stderr_filter.h"

int main(int argc, char** argv) {
  using namespace genre::cli;
  genre::tune_allocator_for_tensors();
  CLI::App app{
      "genre: classify music by genre with a convolutional recurrent network (CRNN) over\n"
      "librosa-compatible log-mel spectrograms (12 kHz, 96 mels, n_fft 512, hop 256).\n"
      "Run 'genre COMMAND --help' for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("genre ") + GENRE_VERSION);
  std::vector<Command> commands;
  add_features_command(app, commands);
#ifdef GENRE_HAVE_MODEL_COMMANDS
  add_train_command(app, commands);
  add_evaluate_command(app, commands);
  add_cv_command(app, commands);
  add_predict_command(app, commands);
  add_export_command(app, commands);
  add_info_command(app, commands);
  add_import_command(app, commands);
  add_plot_command(app, commands);
  add_serve_command(app, commands);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  genre::install_stderr_filter();
  // Past a file size limit (ulimit -f) a write fails with EFBIG and genre reports it, instead of
  // the process dying from SIGXFSZ mid-run.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const genre::Error& e) {
    std::cerr << "genre: error: " << e.what() << "\n";
    return e.kind() == genre::ErrorKind::kInvalidArgument ? kExitUsage : kExitSomeFailed;
  } catch (const std::exception& e) {
    std::cerr << "genre: error: " << e.what() << "\n";
    return kExitSomeFailed;
  }
  return kExitUsage;
}
