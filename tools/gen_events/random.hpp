// The generator's own pseudo-random numbers: identical on every compiler, library and machine.
//
// std::uniform_*_distribution and std::random_device are implementation-defined, so the
// generator never uses them. Rng is xoshiro256** seeded through splitmix64; integer ranges are
// drawn by rejection so that they are unbiased and exact.
#pragma once

#include <array>
#include <cstdint>

namespace cep::tools {

// One step of splitmix64: advances `state` and returns the next output.
constexpr std::uint64_t splitMix64(std::uint64_t &state) {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Independent purposes (background traffic, each scenario kind, disorder) draw from separate
// streams so that changing, say, the number of takeovers leaves the background untouched.
enum class RngStream : std::uint64_t {
  Background = 1,
  CardTesting,
  Velocity,
  Takeover,
  Travel,
  Unpaid,
  Disorder,
  ClickFlood,      // after Disorder: the earlier streams keep their numbers (and outputs)
  SlowCardTesting, // after ClickFlood: the streams before keep their seeds
};

class Rng {
public:
  Rng(std::uint64_t seed, RngStream stream) {
    std::uint64_t state = seed ^ (static_cast<std::uint64_t>(stream) * 0xd1342543de82ef95ULL);
    for (auto &word : state_) {
      word = splitMix64(state);
    }
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n); n must be positive.
  std::uint64_t below(std::uint64_t n) {
    // Values under `threshold` would make the low residues more likely: draw again.
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) {
        return r % n;
      }
    }
  }

  // Uniform in [lo, hi], both included; lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (span == UINT64_MAX) {
      return static_cast<std::int64_t>(next());
    }
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span + 1));
  }

  // True with probability percent / 100.
  bool chance(unsigned percent) { return below(100) < percent; }

private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<std::uint64_t, 4> state_{};
};

} // namespace cep::tools
