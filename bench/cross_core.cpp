// bench-cross-core: what moving data between two cores costs on this machine, apart from cep
// (RESULTS.md "#15 closed", issue #15 §2). Two measurements:
//
//   round trip   one cache line bounced between a thread on core 0 and one on core 1
//   hand-over    blocks of 128 bytes written on core 0 and read on core 1, in batches (the shape
//                of `cep run --workers N`: the reader fills a batch while a worker reads the
//                last one), against the same blocks written and read on one core
//
//   bench-cross-core [--blocks N] [--batch N]
//
// Defaults: 10M blocks (rounded down to whole batches), batches of 4096.
//
// Only the standard library and POSIX (pthread affinity). Needs two cores.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <string_view>
#include <thread>
#include <vector>

namespace {

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr std::size_t kBlock = 128;      // an event block of seq's size class
constexpr std::size_t kPool = 65536;     // blocks reused round-robin (8 MiB)
constexpr std::size_t kWritten = 96;     // bytes of each block written and read back
constexpr std::size_t kStride = 7919;    // a prime: consecutive blocks are far apart
constexpr std::size_t kAheadBatches = 8; // the writer may run this far ahead of the reader

struct Blocks {
  std::vector<unsigned char> bytes = std::vector<unsigned char>(kBlock * kPool);
  unsigned char *at(std::size_t i) { return &bytes[(i * kStride) % kPool * kBlock]; }
  void write(std::size_t i) { std::memset(at(i), static_cast<int>(i & 0xff), kWritten); }
  std::uint64_t read(std::size_t i) {
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < kWritten; k += 8) {
      std::uint64_t word;
      std::memcpy(&word, at(i) + k, sizeof word);
      sum += word;
    }
    return sum;
  }
};

double roundTripNs(int trips) {
  alignas(64) std::atomic<int> flag{0};
  std::thread other([&] {
    pin(1);
    for (int i = 0; i < trips; ++i) {
      while (flag.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  double t0 = seconds();
  for (int i = 0; i < trips; ++i) {
    flag.store(2 * i + 1, std::memory_order_release);
    while (flag.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  double t1 = seconds();
  other.join();
  return (t1 - t0) / trips * 1e9;
}

double oneCoreNs(Blocks &blocks, std::size_t count, std::size_t batch, std::uint64_t &sum) {
  double t0 = seconds();
  for (std::size_t b = 0; b < count; b += batch) {
    for (std::size_t i = b; i < b + batch; ++i) {
      blocks.write(i);
    }
    for (std::size_t i = b; i < b + batch; ++i) {
      sum += blocks.read(i);
    }
  }
  return (seconds() - t0) / static_cast<double>(count) * 1e9;
}

double twoCoresNs(Blocks &blocks, std::size_t count, std::size_t batch, std::uint64_t &sum) {
  std::atomic<std::size_t> written{0}, read{0};
  std::uint64_t reader_sum = 0;
  std::thread reader([&] {
    pin(1);
    for (std::size_t b = 0; b < count; b += batch) {
      while (written.load(std::memory_order_acquire) < b + batch) {
      }
      for (std::size_t i = b; i < b + batch; ++i) {
        reader_sum += blocks.read(i);
      }
      read.store(b + batch, std::memory_order_release);
    }
  });
  double t0 = seconds();
  for (std::size_t b = 0; b < count; b += batch) {
    // Never more than kAheadBatches batches ahead (the reader must be done with a block before
    // it is written again: the pool holds kPool blocks).
    while (b >= batch * kAheadBatches &&
           read.load(std::memory_order_acquire) + batch * kAheadBatches <= b) {
    }
    for (std::size_t i = b; i < b + batch; ++i) {
      blocks.write(i);
    }
    written.store(b + batch, std::memory_order_release);
  }
  reader.join();
  sum += reader_sum;
  return (seconds() - t0) / static_cast<double>(count) * 1e9;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: bench-cross-core [--blocks N] [--batch N]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char **argv) {
  std::size_t count = 10'000'000, batch = 4096;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "--blocks" || a == "--batch") && i + 1 < argc) {
      std::size_t v = std::strtoull(argv[++i], nullptr, 10);
      (a == "--blocks" ? count : batch) = v;
    } else {
      usage();
    }
  }
  if (batch == 0 || batch * kAheadBatches * 2 > kPool || count < batch) {
    std::fprintf(stderr, "bench-cross-core: --batch from 1 to 4096, --blocks at least --batch\n");
    return 2;
  }
  count -= count % batch; // whole batches
  if (std::thread::hardware_concurrency() < 2 || !pin(0)) {
    std::fprintf(stderr, "bench-cross-core: needs two cores (0 and 1)\n");
    return 2;
  }
  Blocks blocks;
  std::uint64_t sum = 0;
  std::printf("round trip of a cache line, core 0 <-> 1: %.0f ns\n", roundTripNs(200'000));
  std::printf("%zu blocks of %zu bytes, batches of %zu\n", count, kBlock, batch);
  std::printf("  written and read on core 0:             %.1f ns per block\n",
              oneCoreNs(blocks, count, batch, sum));
  std::printf("  written on core 0, read on core 1:      %.1f ns per block (wall)\n",
              twoCoresNs(blocks, count, batch, sum));
  std::printf("(checksum %llu)\n", static_cast<unsigned long long>(sum & 0xffff));
  return 0;
}
