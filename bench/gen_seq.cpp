// bench-gen-seq: the deterministic input of the `seq` and `seq-any` benchmarks (bench/README.md).
// Lines `{"type":"A","key":17,"ts":1700000000123}`: types A-D uniform, keys 0..K-1 uniform, times
// rising by 0-20 ms per event from 1700000000000. The same arguments give the same bytes.
//
// Usage: bench-gen-seq --events N --keys K [--seed S] [-o PATH]     (default: stdout)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// splitmix64: small, fast, the same on every platform.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; } // bias is irrelevant here
};

int usage(const char *message) {
  std::fprintf(stderr,
               "bench-gen-seq: %s\nusage: bench-gen-seq --events N --keys K [--seed S] "
               "[-o PATH]\n",
               message);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  std::uint64_t events = 0, keys = 0, seed = 1;
  const char *path = "-";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      return usage(("missing value after " + arg).c_str());
    }
    const char *value = argv[++i];
    if (arg == "--events") {
      events = std::strtoull(value, nullptr, 10);
    } else if (arg == "--keys") {
      keys = std::strtoull(value, nullptr, 10);
    } else if (arg == "--seed") {
      seed = std::strtoull(value, nullptr, 10);
    } else if (arg == "-o" || arg == "--output") {
      path = value;
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (events == 0 || keys == 0) {
    return usage("--events and --keys must be positive");
  }
  std::FILE *out = std::strcmp(path, "-") == 0 ? stdout : std::fopen(path, "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "bench-gen-seq: cannot open %s\n", path);
    return 1;
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  Rng rng{seed};
  std::int64_t ts = 1700000000000;
  for (std::uint64_t i = 0; i < events; ++i) {
    char type = static_cast<char>('A' + rng.below(4));
    std::uint64_t key = rng.below(keys);
    std::fprintf(out, "{\"type\":\"%c\",\"key\":%llu,\"ts\":%lld}\n", type,
                 static_cast<unsigned long long>(key), static_cast<long long>(ts));
    ts += static_cast<std::int64_t>(rng.below(21));
  }
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "bench-gen-seq: write error on %s\n", path);
    return 1;
  }
  return 0;
}
