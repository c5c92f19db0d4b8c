// genre/common: keep decoder libraries' chatter off the user's terminal.
//
// libmpg123 (inside libsndfile) prints "Note: Illegal Audio-MPEG-Header ..." and similar lines
// straight to stderr for damaged MP3s, and libsndfile gives no way to silence it. genre reports
// each bad file itself, in one line, so the CLI routes stderr through a filter that drops those
// lines and passes everything else through unchanged and unbuffered.
#pragma once

#include <string>

namespace genre {

// True for a line (or the start of one) that is decoder chatter.
bool is_decoder_chatter(const std::string& line);

// Redirects file descriptor 2 through the filter until uninstall_stderr_filter() (or exit).
// Does nothing when $GENRE_DECODER_MESSAGES=1 (to see the libraries' own words) or in sanitizer
// builds (their reports must reach the terminal even when the process dies).
void install_stderr_filter();
void uninstall_stderr_filter();

// Whether the user's stderr (behind the filter, when installed) is a terminal.
bool stderr_is_terminal();

}  // namespace genre
