#include "disorder.hpp"

#include "random.hpp"

#include <algorithm>
#include <numeric>

namespace cep::tools {

std::vector<std::size_t> emissionOrder(const std::vector<std::int64_t> &times,
                                       std::int64_t max_delay, std::uint64_t seed) {
  Rng rng(seed, RngStream::Disorder);
  std::vector<std::int64_t> written_at(times.size());
  for (std::size_t i = 0; i < times.size(); ++i) {
    written_at[i] = times[i] + (max_delay > 0 ? rng.between(0, max_delay) : 0);
  }
  std::vector<std::size_t> order(times.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return written_at[a] < written_at[b]; });
  return order;
}

} // namespace cep::tools
