// `cep backtest`'s progress line on a terminal (stderr), rewritten in place at most 5 times a
// second while the history is read:
//
//   cep backtest: 1834512 events, 412k events/s, 37% of 1.2 GiB, ETA 0:08
//
// The share and ETA come from the bytes read against the inputs' sizes (only when every input
// is a regular file). After the last input ends, `--order sort` matches what it held in
// event-time order; the line says so, and clear() erases it before the results are printed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cep::cli::backtest {

class Progress {
public:
  // `total_bytes` 0: unknown (no share, no ETA). `sorting`: --order sort (say so at the end).
  Progress(std::FILE *out, std::uint64_t total_bytes, bool sorting)
      : out_(out), total_(total_bytes), sorting_(sorting),
        start_(std::chrono::steady_clock::now()) {}

  // Records and bytes read so far; `done`: every input has ended.
  void update(std::uint64_t records, std::uint64_t bytes, bool done) {
    auto now = std::chrono::steady_clock::now();
    if (!done && shown_ && now - last_ < std::chrono::milliseconds(200)) {
      return;
    }
    last_ = now;
    shown_ = true;
    double seconds = std::chrono::duration<double>(now - start_).count();
    std::string line = "cep backtest: " + std::to_string(records) + " events";
    if (seconds > 0.05) {
      line += ", " + rate(static_cast<double>(records) / seconds) + " events/s";
    }
    if (total_ > 0) {
      double share = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_));
      char text[64];
      std::snprintf(text, sizeof text, ", %.0f%% of %s", share * 100.0, size(total_).c_str());
      line += text;
      if (!done && share > 0.0 && seconds > 0.5) {
        auto left = static_cast<std::uint64_t>(seconds / share - seconds);
        std::snprintf(text, sizeof text, ", ETA %llu:%02llu",
                      static_cast<unsigned long long>(left / 60),
                      static_cast<unsigned long long>(left % 60));
        line += text;
      }
    }
    if (done && sorting_) {
      line += "; matching in event-time order";
    }
    std::fprintf(out_, "\r\033[K%s", line.c_str());
    std::fflush(out_);
  }

  // Erases the line (when one was written).
  void clear() {
    if (shown_) {
      std::fprintf(out_, "\r\033[K");
      std::fflush(out_);
      shown_ = false;
    }
  }

private:
  static std::string rate(double per_second) {
    char text[32];
    if (per_second >= 1e6) {
      std::snprintf(text, sizeof text, "%.1fM", per_second / 1e6);
    } else if (per_second >= 1e3) {
      std::snprintf(text, sizeof text, "%.0fk", per_second / 1e3);
    } else {
      std::snprintf(text, sizeof text, "%.0f", per_second);
    }
    return text;
  }
  static std::string size(std::uint64_t bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
      value /= 1024;
      ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
  }

  std::FILE *out_;
  std::uint64_t total_;
  bool sorting_;
  std::chrono::steady_clock::time_point start_, last_;
  bool shown_ = false;
};

} // namespace cep::cli::backtest
