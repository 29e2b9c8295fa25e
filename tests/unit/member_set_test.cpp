// The constant sets behind long `in` lists (runtime/native/member_set.hpp): the builder and the
// probes agree with a linear scan on random lists, duplicates, extremes and strings that share
// prefixes, lengths or hashes' low bits (tag [memberset]).
#include "runtime/native/member_set.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <random>

using namespace cep::runtime::native;

TEST_CASE("int member tables answer like a linear scan", "[memberset]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::int64_t> values;
    std::size_t n = 1 + rng() % 300;
    for (std::size_t i = 0; i < n; ++i) {
      values.push_back(static_cast<std::int64_t>(rng() % 1000) - 500);
    }
    values.push_back(std::numeric_limits<std::int64_t>::min());
    values.push_back(std::numeric_limits<std::int64_t>::max());
    MemberTable t = buildIntTable(values);
    REQUIRE(t.slots.size() == t.mask + 1);
    REQUIRE(t.ints.size() * 2 <= t.slots.size()); // at most half full: probes end
    for (std::int64_t x = -600; x <= 600; ++x) {
      bool want = std::find(values.begin(), values.end(), x) != values.end();
      REQUIRE((cep_rt_in_int(t.slots.data(), t.mask, t.ints.data(), x) == 1) == want);
    }
    CHECK(cep_rt_in_int(t.slots.data(), t.mask, t.ints.data(),
                        std::numeric_limits<std::int64_t>::min()) == 1);
    CHECK(cep_rt_in_int(t.slots.data(), t.mask, t.ints.data(),
                        std::numeric_limits<std::int64_t>::min() + 1) == 0);
  }
}

TEST_CASE("int member tables keep each value once, in first-seen order", "[memberset]") {
  MemberTable t = buildIntTable({5, 3, 5, 9, 3});
  CHECK(t.ints == std::vector<std::int64_t>{5, 3, 9});
}

TEST_CASE("string member tables answer like a linear scan", "[memberset]") {
  std::vector<std::string> values = {"",      "a",     "ab",    "abc",
                                     "c0001", "c0002", "c0002", std::string("n\0ul", 4)};
  for (int i = 0; i < 2000; ++i) {
    values.push_back("card-" + std::to_string(i * 3));
  }
  MemberTable t = buildStringTable(values);
  REQUIRE(t.spans.size() / 2 == values.size() - 1); // the duplicate kept once
  auto probe = [&t](const std::string &s) {
    return cep_rt_in_str(t.slots.data(), t.mask, t.spans.data(), t.bytes.data(), s.data(),
                         s.size()) == 1;
  };
  for (int i = 0; i < 6000; ++i) {
    std::string s = "card-" + std::to_string(i);
    CHECK(probe(s) == (i % 3 == 0));
  }
  CHECK(probe(""));
  CHECK(probe("ab"));
  CHECK(probe(std::string("n\0ul", 4)));
  CHECK_FALSE(probe("n"));
  CHECK_FALSE(probe("abcd"));
  CHECK_FALSE(probe("c000"));
  CHECK_FALSE(probe("card-"));
}

TEST_CASE("an empty member table finds nothing", "[memberset]") {
  MemberTable ints = buildIntTable({});
  CHECK(cep_rt_in_int(ints.slots.data(), ints.mask, ints.ints.data(), 0) == 0);
  MemberTable strings = buildStringTable({});
  CHECK(cep_rt_in_str(strings.slots.data(), strings.mask, strings.spans.data(),
                      strings.bytes.data(), "", 0) == 0);
}
