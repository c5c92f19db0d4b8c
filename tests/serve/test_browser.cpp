// The web page in a real browser: headless Chromium, driven by puppeteer-core
// (tests/browser/page_test.mjs), uploads a clip and a non-audio file to an in-process server.
// Skips with the reason when node, puppeteer-core or a startable Chromium is missing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "serve/serve_test_support.h"
#include "support/test_support.h"

namespace genre::test {
namespace {

namespace fs = std::filesystem;

std::string browser_path() {
  const char* env = std::getenv("GENRE_BROWSER");
  return env && *env ? env : "/usr/bin/chromium";
}

TEST(ServeBrowser, PageClassifiesAClipAndShowsErrors) {
  const fs::path tooling = fs::path(GENRE_SOURCE_DIR) / "tests/browser";
  if (run_command("node --version") != 0) GTEST_SKIP() << "node is not installed (scripts/setup)";
  if (!fs::exists(tooling / "node_modules/puppeteer-core"))
    GTEST_SKIP() << "puppeteer-core is not installed: run scripts/setup (npm ci in tests/browser)";
  if (!fs::exists(browser_path()))
    GTEST_SKIP() << "no browser at " << browser_path() << " (Debian chromium, or GENRE_BROWSER)";

  TempDir dir;
  std::string clip = dir.file("clip.wav");
  if (!shared_dir().empty() && fs::exists(shared_dir() + "/audio/Brahms_-_Hungarian_Dance_5.ogg"))
    clip = shared_dir() + "/audio/Brahms_-_Hungarian_Dance_5.ogg";
  else
    write_bytes(clip, wav_bytes(12.0));
  write_bytes(dir.file("not-a-song.mp3"), "These are liner notes, not audio.\n");

  // The genre the page must show: what `genre predict` says about the same file.
  std::string out;
  ASSERT_EQ(run_command(genre_binary() + " predict --json -q --threads 1 -m " + serve_test_model() +
                            " '" + clip + "'",
                        &out),
            0);
  const std::string expected = nlohmann::json::parse(out)["predictions"][0]["label"];

  RunningServer server;
  fs::create_directories(GENRE_TEST_ARTIFACTS);
  const std::string screenshot = std::string(GENRE_TEST_ARTIFACTS) + "/serve-page.png";
  fs::remove(screenshot);
  std::string err;
  const int status =
      run_command("node '" + (tooling / "page_test.mjs").string() +
                      "' --url http://127.0.0.1:" + std::to_string(server.port()) + "/ --audio '" +
                      clip + "' --expect " + expected + " --bad '" + dir.file("not-a-song.mp3") +
                      "' --screenshot '" + screenshot + "' --browser '" + browser_path() + "'",
                  &out, &err);
  if (status == 77) GTEST_SKIP() << err;
  ASSERT_EQ(status, 0) << err << "\n" << out;
  const nlohmann::json summary = nlohmann::json::parse(out);
  EXPECT_EQ(summary["top"], expected);
  EXPECT_EQ(summary["bars"][0][0], expected);
  EXPECT_NE(summary["error"].get<std::string>().find("not_audio"), std::string::npos);
  EXPECT_LE(summary["phone_overflow"].get<int>(), 0);
  EXPECT_TRUE(fs::exists(screenshot)) << screenshot;
  std::cerr << "screenshots: " << screenshot << " (and -phone, -error)\n";
}

}  // namespace
}  // namespace genre::test
