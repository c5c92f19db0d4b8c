// Load test of `genre serve` on loopback (a benchmark, not a test): C clients post 30 s clips
// back to back for D seconds each, at C = 1, 4, 16 and 16 again; requests/s, p50/p99 latency,
// errors and the server's resident memory (sampled every 0.5 s: a leak would keep growing
// between the two 16-client phases),
// then `genre predict` on the same clips with the same threads for the throughput it gets
// without HTTP.
//   bench_serve [FOLDER] [SECONDS] [THREADS] [ROUNDS]   (default: ../shared/gtzan, 30, 2, 3)
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "data/inputs.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// kB from /proc/PID/status ("VmRSS" now, "VmHWM" peak).
double status_mb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  return -1;
}

// `genre serve` as a child; its port from its stderr.
struct ServeChild {
  pid_t pid = -1;
  int port = 0;
};

ServeChild start_server(int threads) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  ServeChild s;
  s.pid = ::fork();
  if (s.pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    const std::string t = std::to_string(threads);
    ::execl(GENRE_BINARY, "genre", "serve", "--port", "0", "--threads", t.c_str(), "--queue", "32",
            "--device", "cpu", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string err;
  char buf[512];
  const std::regex listening("listening on http://[^:]+:([0-9]+)/");
  std::smatch m;
  while (!std::regex_search(err, m, listening)) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (std::regex_search(err, m, listening)) s.port = std::stoi(m[1]);
  return s;
}

// CPU seconds (user + system) the process has used.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // fields 14 and 15 of proc(5), in clock ticks
    if (i == 14) utime = std::stod(f);
    if (i == 15) {
      stime = std::stod(f);
      break;
    }
  }
  return (utime + stime) / ::sysconf(_SC_CLK_TCK);
}

struct Phase {
  int clients = 0;
  std::size_t requests = 0, errors = 0;
  double seconds = 0, p50 = 0, p99 = 0, rss_min = 1e18, rss_max = 0, cpu = 0;
};

// `clients` clients post clips back to back for `seconds`, or until `count` requests have been
// sent when count > 0.
Phase load(int port, pid_t server, const std::vector<std::string>& clips, int clients,
           double seconds, std::size_t count = 0) {
  Phase ph;
  ph.clients = clients;
  std::mutex mutex;
  std::vector<double> latencies;
  std::atomic<bool> running{true};
  std::atomic<std::size_t> issued{0};
  const Clock::time_point start = Clock::now();
  const double cpu_start = cpu_seconds(server);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(300, 0);
      client.set_keep_alive(true);
      std::vector<double> mine;
      std::size_t errors = 0;
      for (;;) {
        const std::size_t i = issued++;
        if (count > 0 ? i >= count : seconds_since(start) >= seconds) break;
        const Clock::time_point t = Clock::now();
        auto r = client.Post("/v1/classify", clips[i % clips.size()], "application/octet-stream");
        mine.push_back(seconds_since(t));
        if (!r || r->status != 200) ++errors;
      }
      std::lock_guard<std::mutex> lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      ph.errors += errors;
    });
  std::thread sampler([&] {
    while (running) {
      const double rss = status_mb(server, "VmRSS");
      ph.rss_min = std::min(ph.rss_min, rss);
      ph.rss_max = std::max(ph.rss_max, rss);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  for (auto& t : threads) t.join();
  ph.seconds = seconds_since(start);
  ph.cpu = (cpu_seconds(server) - cpu_start) / ph.seconds;
  running = false;
  sampler.join();
  std::sort(latencies.begin(), latencies.end());
  ph.requests = latencies.size();
  if (!latencies.empty()) {
    ph.p50 = latencies[(latencies.size() - 1) / 2];
    ph.p99 = latencies[std::min(latencies.size() - 1,
                                static_cast<std::size_t>(0.99 * latencies.size()))];
  }
  return ph;
}

// CPU seconds of the children waited for so far (genre predict through std::system).
double children_cpu_seconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_CHILDREN, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string shared = genre::bench::shared_dir();
  const std::string folder = argc > 1 ? argv[1] : shared.empty() ? "" : shared + "/gtzan";
  const double seconds = argc > 2 ? std::stod(argv[2]) : 30;
  const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
  const int rounds = argc > 4 ? std::stoi(argv[4]) : 3;  // against genre predict; 0: skip
  if (folder.empty()) {
    std::fprintf(stderr,
                 "bench_serve: no clips: give a folder of 30 s clips or set GENRE_SHARED\n");
    return 2;
  }
  std::vector<std::string> paths;
  for (const auto& f : genre::expand_inputs({folder}, std::cin)) paths.push_back(f.path);
  // Every tenth file: a spread over the genres that fits in memory (GTZAN: 100 clips).
  std::vector<std::string> chosen, clips;
  for (std::size_t i = 0; i < paths.size(); i += 10) chosen.push_back(paths[i]);
  for (const auto& p : chosen) {
    std::ifstream in(p, std::ios::binary);
    clips.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::printf("%s\nclips: %zu files from %s; server: --threads %d; %g s per phase\n",
              genre::bench::cpu_description().c_str(), clips.size(), folder.c_str(), threads,
              seconds);

  ServeChild server = start_server(threads);
  if (server.port == 0) {
    std::fprintf(stderr, "bench_serve: genre serve did not start\n");
    return 1;
  }
  std::printf("server RSS after start: %.0f MB\n", status_mb(server.pid, "VmRSS"));
  load(server.port, server.pid, clips, 1, std::min(5.0, seconds));  // warm-up, not reported
  std::printf("%8s %9s %7s %9s %8s %8s %16s %11s\n", "clients", "requests", "errors", "req/s",
              "p50 s", "p99 s", "RSS min-max MB", "server CPU");
  // 16 twice: memory that keeps growing under the same load would be a leak.
  for (int clients : {1, 4, 16, 16}) {
    const Phase ph = load(server.port, server.pid, clips, clients, seconds);
    std::printf("%8d %9zu %7zu %9.2f %8.3f %8.3f %9.0f-%-6.0f %10.0f%%\n", ph.clients, ph.requests,
                ph.errors, ph.requests / ph.seconds, ph.p50, ph.p99, ph.rss_min, ph.rss_max,
                100 * ph.cpu);
    std::fflush(stdout);
  }
  // Throughput next to `genre predict` on the same clips with the same threads: 20 passes over
  // them each way (so predict's model load, about a second, weighs little), 3 rounds taking
  // turns, medians (the machine is shared: a busy neighbour slows one round, not a side).
  const int passes = 20;
  const std::size_t tracks = passes * chosen.size();
  std::string list = "/tmp/bench_serve_list_" + std::to_string(::getpid()) + ".txt";
  {
    std::ofstream out(list);
    for (int pass = 0; pass < passes; ++pass)
      for (const auto& p : chosen) out << p << "\n";
  }
  const std::string t = std::to_string(threads);
  const std::string command = std::string(GENRE_BINARY) + " predict -q --jsonl --device cpu -j " +
                              t + " --threads " + t + " @" + list + " > /dev/null";
  std::vector<double> predict_rate, serve_rate;
  for (int r = 0; r < rounds; ++r) {
    const Clock::time_point start = Clock::now();
    const double children_cpu = children_cpu_seconds();
    const int rc = std::system(command.c_str());
    const double took = seconds_since(start);
    predict_rate.push_back(rc == 0 ? tracks / took : 0);
    const double predict_cpu = (children_cpu_seconds() - children_cpu) / took;
    const Phase ph = load(server.port, server.pid, clips, 4, 1e9, tracks);
    serve_rate.push_back(ph.errors == 0 ? ph.requests / ph.seconds : 0);
    std::printf(
        "round %d: genre predict %.2f tracks/s (CPU %.0f%%), genre serve (4 clients) "
        "%.2f req/s (server CPU %.0f%%)\n",
        r + 1, predict_rate.back(), 100 * predict_cpu, serve_rate.back(), 100 * ph.cpu);
    std::fflush(stdout);
  }
  std::remove(list.c_str());
  std::sort(predict_rate.begin(), predict_rate.end());
  std::sort(serve_rate.begin(), serve_rate.end());
  if (rounds > 0)
    std::printf(
        "%zu tracks each way, medians: genre predict %.2f tracks/s, genre serve %.2f req/s "
        "(%.0f%% of predict)\n",
        tracks, predict_rate[1], serve_rate[1], 100 * serve_rate[1] / predict_rate[1]);

  std::printf("server peak RSS (VmHWM): %.0f MB\n", status_mb(server.pid, "VmHWM"));
  ::kill(server.pid, SIGTERM);
  int status = 0;
  ::waitpid(server.pid, &status, 0);
  std::printf("server exit after SIGTERM: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
