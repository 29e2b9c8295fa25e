// `cep state`'s listing (service/state_listing.hpp; tag [state-listing]): from a known state
// model, the exact text and JSON, the key filter (as the user writes a key), the bound on runs,
// and the JSON read back giving the same text (what `cep state --server` prints).
#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/event.hpp"
#include "runtime/state/matcher_state.hpp"
#include "service/state_listing.hpp"

#include <catch2/catch.hpp>
#include <cstring>

namespace {

namespace rt = cep::runtime;
using cep::service::StateFilter;
using cep::service::StateListing;

std::shared_ptr<const rt::Schema> paymentSchema() {
  rt::Schema s;
  rt::EventSchema p;
  p.name = "Payment";
  p.fields = {{"card", rt::FieldKind::String, false},
              {"amount", rt::FieldKind::Float, false},
              {"ts", rt::FieldKind::Time, false}};
  p.time_field = 2;
  s.types.push_back(p);
  return std::make_shared<const rt::Schema>(s);
}

// A Payment event; `raw` (when not empty) is kept as its record.
rt::EventRef payment(std::string_view card, double amount, std::int64_t ts, std::uint64_t seq,
                     std::string_view raw = {}) {
  std::size_t extra = sizeof(std::uint32_t) + card.size() + raw.size() + 8;
  rt::Event *e = rt::allocateEvent(0, 3, extra);
  char *at = rt::extraBegin(e);
  auto *s = reinterpret_cast<rt::StringRef *>(at);
  s->size = static_cast<std::uint32_t>(card.size());
  std::memcpy(s->data, card.data(), card.size());
  e->slots()[0].s = s;
  e->slots()[1].f = amount;
  e->slots()[2].i = ts;
  e->time = ts;
  e->seq = seq;
  e->nulls = 0;
  if (!raw.empty()) {
    char *r = at + sizeof(std::uint32_t) + card.size();
    std::memcpy(r, raw.data(), raw.size());
    e->raw = r;
    e->raw_size = static_cast<std::uint32_t>(raw.size());
  }
  return rt::EventRef(e);
}

constexpr std::int64_t kT0 = 1796378400000; // 2026-12-04T10:00:00.000Z

// card_testing: small{2,} -> big, within 10m; "card-42" has two runs (two smalls; one small),
// "card-7" one run and one held match; key 9 (an int key, for the filter) one run.
rt::MatcherState knownState() {
  rt::MatcherState st;
  st.pattern = "card_testing";
  st.time = kT0 + 2999;
  st.schema = paymentSchema();
  st.events.push_back(payment("card-42", 0.5, kT0, 1));
  st.events.push_back(
      payment("card-7", 0.25, kT0 + 1000, 2,
              R"({"card": "card-7", "amount": 0.25, "ts": "2026-12-04T10:00:01Z"})"));
  st.events.push_back(payment("card-42", 0.75, kT0 + 2000, 3));
  st.nodes = {{0, "small", -1}, {1, "small", -1}, {2, "small", 0}, {2, "small", -1}};
  rt::StateKey k42;
  k42.key_json = R"("card-42")";
  k42.runs = {{"small:loop", 2, 2, kT0, 1, kT0 + 2000},
              {"small:loop", 1, 3, kT0 + 2000, 3, kT0 + 2000}};
  rt::StateKey k7;
  k7.key_json = R"("card-7")";
  k7.runs = {{"small:loop", 1, 1, kT0 + 1000, 2, kT0 + 1000}};
  k7.held = {{1, kT0 + 1000, 2}};
  rt::StateKey k9;
  k9.key_json = "9";
  k9.runs = {{"small", 0, 0, kT0, 1, kT0}};
  st.keys = {std::move(k42), std::move(k7), std::move(k9)};
  return st;
}

cep::runtime::native::PatternImage knownImage() {
  cep::runtime::native::PatternImage image;
  image.name = "card_testing";
  image.within_ms = 600000;
  image.states = {{"small", {}, 0, cep::runtime::native::kNoBound, false},
                  {"small:loop", {}, 0, 300000, false}}; // a tighter per-state bound
  return image;
}

StateListing listed(const StateFilter &filter) {
  StateListing l;
  l.checkpoint = 7;
  l.taken_at = kT0 + 5000;
  auto image = knownImage();
  cep::service::listVersion(l, knownState(), &image, "9a86f42c81d1", false, filter);
  return l;
}

} // namespace

TEST_CASE("state listing: the text of a known state", "[state-listing]") {
  StateFilter all;
  CHECK(cep::service::formatStateListing(listed(all)) ==
        "checkpoint 7 (taken 2026-12-04T10:00:05.000Z)\n"
        "pattern card_testing 9a86f42c81d1: 3 keys, 4 partial matches, time "
        "2026-12-04T10:00:02.999Z\n"
        "  key \"card-42\"\n"
        "    run 1: state small:loop (last step small, counter 2), started "
        "2026-12-04T10:00:00.000Z, deadline 2026-12-04T10:05:02.000Z\n"
        "      small: {\"@type\":\"Payment\",\"card\":\"card-42\",\"amount\":0.5,\"ts\":\"2026-"
        "12-04T10:00:00.000Z\"}\n"
        "      small: {\"@type\":\"Payment\",\"card\":\"card-42\",\"amount\":0.75,\"ts\":\"2026-"
        "12-04T10:00:02.000Z\"}\n"
        "    run 2: state small:loop (last step small, counter 1), started "
        "2026-12-04T10:00:02.000Z, deadline 2026-12-04T10:05:02.000Z\n"
        "      small: {\"@type\":\"Payment\",\"card\":\"card-42\",\"amount\":0.75,\"ts\":\"2026-"
        "12-04T10:00:02.000Z\"}\n"
        "  key \"card-7\"\n"
        "    run 1: state small:loop (last step small, counter 1), started "
        "2026-12-04T10:00:01.000Z, deadline 2026-12-04T10:05:01.000Z\n"
        "      small: {\"card\":\"card-7\",\"amount\":0.25,\"ts\":\"2026-12-04T10:00:01Z\"}\n"
        "    held match 1: started 2026-12-04T10:00:01.000Z\n"
        "      small: {\"card\":\"card-7\",\"amount\":0.25,\"ts\":\"2026-12-04T10:00:01Z\"}\n"
        "  key 9\n"
        "    run 1: state small (last step small, counter 0), started "
        "2026-12-04T10:00:00.000Z, deadline 2026-12-04T10:10:00.000Z\n"
        "      small: {\"@type\":\"Payment\",\"card\":\"card-42\",\"amount\":0.5,\"ts\":\"2026-"
        "12-04T10:00:00.000Z\"}\n"
        "3 keys listed, 4 of 4 partial matches, 1 held match\n");
}

TEST_CASE("state listing: the JSON of one key, and read back", "[state-listing]") {
  StateFilter one;
  one.keys = cep::service::keyCandidates("card-7");
  StateListing l = listed(one);
  std::string json = cep::service::stateListingJson(l);
  CHECK(json ==
        R"({"source":"checkpoint","checkpoint":7,"taken_at":"2026-12-04T10:00:05.000Z",)"
        R"("patterns":[{"pattern":"card_testing","version":"9a86f42c81d1","state":"active",)"
        R"("time":"2026-12-04T10:00:02.999Z","keys_total":3,"runs_total":4,"keys":[{"key":)"
        R"("card-7","runs":[{"state":"small:loop","step":"small","counter":1,"start":)"
        R"("2026-12-04T10:00:01.000Z","deadline":"2026-12-04T10:05:01.000Z","events":)"
        R"({"small":[{"card":"card-7","amount":0.25,"ts":"2026-12-04T10:00:01Z"}]}}],"held":)"
        R"([{"start":"2026-12-04T10:00:01.000Z","events":{"small":[{"card":"card-7",)"
        R"("amount":0.25,"ts":"2026-12-04T10:00:01Z"}]}}]}]}],"keys_listed":1,)"
        R"("runs_listed":1,"held_listed":1,"runs_total":4,"truncated":false})"
        "\n");
  StateListing back;
  std::string error;
  REQUIRE(cep::service::parseStateListing(json, back, error));
  CHECK(cep::service::formatStateListing(back) == cep::service::formatStateListing(l));
  CHECK(cep::service::stateListingJson(back) == json);
  CHECK_FALSE(cep::service::parseStateListing(R"({"source":"x"})", back, error));
  CHECK(error.find("not a state listing") == 0);
}

TEST_CASE("state listing: a key as the user writes it", "[state-listing]") {
  auto keys = [](std::string_view text) {
    StateFilter f;
    f.keys = cep::service::keyCandidates(text);
    StateListing l = listed(f);
    std::string out;
    for (const auto &k : l.patterns.at(0).keys) {
      out += k.key_json + ";";
    }
    return out;
  };
  CHECK(keys("card-42") == "\"card-42\";");
  CHECK(keys("\"card-42\"") == "\"card-42\";");
  CHECK(keys("9") == "9;");
  CHECK(keys("card-9") == "");

  // A composite key, as "@key" prints it in match records, typed with or without spaces.
  rt::MatcherState st = knownState();
  rt::StateKey composite;
  composite.key_json = R"(["card-42",3])";
  composite.runs = {{"small", 0, 0, kT0, 1, kT0}};
  st.keys.push_back(composite);
  StateFilter f;
  f.keys = cep::service::keyCandidates(R"([ "card-42", 3 ])");
  StateListing l;
  cep::service::listVersion(l, st, nullptr, "v", false, f);
  REQUIRE(l.patterns.at(0).keys.size() == 1);
  CHECK(l.patterns[0].keys[0].key_json == R"(["card-42",3])");
  CHECK_FALSE(l.patterns[0].keys[0].runs.at(0).deadline); // no image: no deadline
  CHECK(cep::service::keyCandidates(R"([ "card-42", 3 ])") ==
        std::vector<std::string>{R"(["card-42",3])", R"("[ \"card-42\", 3 ]")"});
}

TEST_CASE("state listing: beyond the bound, whole keys are left out with a note",
          "[state-listing]") {
  StateFilter bounded;
  bounded.max_runs = 3;
  StateListing l = listed(bounded);
  CHECK(l.truncated);
  CHECK(l.keys_listed == 1); // card-42 (2 runs); card-7 (1 run + 1 held) would pass 3
  CHECK(l.runs_total == 4);
  std::string text = cep::service::formatStateListing(l);
  CHECK(text.find("note: the listing stops at 3 partial matches; give a key (--key) to see one "
                  "key's\n") != std::string::npos);

  // A listing of the checkpoint before a damaged one says so under its header line.
  l.fallback = "checkpoint 8 is damaged (meta record: checksum mismatch): using checkpoint 7 "
               "before it";
  CHECK(cep::service::formatStateListing(l).find(
            "checkpoint 7 (taken 2026-12-04T10:00:05.000Z)\nnote: checkpoint 8 is damaged (meta "
            "record: checksum mismatch): using checkpoint 7 before it\npattern ") == 0);
  std::string json = cep::service::stateListingJson(l);
  CHECK(json.find(R"("taken_at":"2026-12-04T10:00:05.000Z","fallback":"checkpoint 8 is damaged)") !=
        std::string::npos);
}

namespace {

namespace agg = cep::runtime::aggregate;

// A hopping aggregate (2 s every 1 s, lateness 1 s) with count(p) and sum(amount), keys "a"
// and "b", cut into key records as `cep serve --state` stores them.
void hoppingRecords(std::string &header, std::vector<std::string> &records) {
  agg::AggregateSpec s;
  s.name = "h";
  s.window = agg::WindowKind::Hopping;
  s.size_ms = 2000;
  s.slide_ms = 1000;
  s.lateness_ms = 1000;
  s.accumulators = {{agg::AggFn::Count, -1, "", rt::FieldKind::Int},
                    {agg::AggFn::Sum, 0, "amount", rt::FieldKind::Float}};
  agg::WindowAggregator a(s);
  std::vector<agg::WindowResult> out;
  auto event = [&](const char *key, std::int64_t t, std::uint64_t seq, double amount) {
    rt::Slot slot{};
    slot.f = amount;
    agg::AggInput in;
    in.time = t;
    in.seq = seq;
    in.fields = &slot;
    a.onEvent(key, in, out);
  };
  a.advance(-1, out);
  event(R"("a")", 500, 1, 1.0);
  event(R"("b")", 900, 2, 5.0);
  event(R"("a")", 1500, 3, 2.0);
  a.advance(1000, out); // fires [-1000, 1000): open to revisions until 1999
  std::vector<std::pair<std::string, std::string>> keys;
  a.snapshotParts(header, keys);
  for (auto &[name, record] : keys) {
    records.push_back(std::move(record));
  }
}

} // namespace

TEST_CASE("state listing: an aggregate's open windows from its key records", "[state-listing]") {
  std::string header;
  std::vector<std::string> records;
  hoppingRecords(header, records);
  std::vector<std::string_view> views(records.begin(), records.end());
  StateListing l;
  l.checkpoint = 3;
  cep::service::listAggregate(l, header, views, "0123456789ab", false, StateFilter{});
  CHECK(cep::service::formatStateListing(l) ==
        "checkpoint 3\n"
        "aggregate h 0123456789ab (hopping): 2 keys, 5 open windows, watermark "
        "1970-01-01T00:00:01.000Z\n"
        "  key \"a\"\n"
        "    window [1969-12-31T23:59:59.000Z, 1970-01-01T00:00:01.000Z): 1 event, 1 record "
        "written, count(p) 1, sum(amount) 1.0\n"
        "    window [1970-01-01T00:00:00.000Z, 1970-01-01T00:00:02.000Z): 2 events, count(p) 2, "
        "sum(amount) 3.0\n"
        "    window [1970-01-01T00:00:01.000Z, 1970-01-01T00:00:03.000Z): 1 event, count(p) 1, "
        "sum(amount) 2.0\n"
        "  key \"b\"\n"
        "    window [1969-12-31T23:59:59.000Z, 1970-01-01T00:00:01.000Z): 1 event, 1 record "
        "written, count(p) 1, sum(amount) 5.0\n"
        "    window [1970-01-01T00:00:00.000Z, 1970-01-01T00:00:02.000Z): 1 event, count(p) 1, "
        "sum(amount) 5.0\n"
        "2 keys listed, 0 of 0 partial matches, 0 held matches, 5 open windows\n");
  std::string json = cep::service::stateListingJson(l);
  StateListing back;
  std::string error;
  REQUIRE(cep::service::parseStateListing(json, back, error));
  CHECK(cep::service::formatStateListing(back) == cep::service::formatStateListing(l));
  CHECK(cep::service::stateListingJson(back) == json);

  StateFilter one;
  one.keys = cep::service::keyCandidates("b");
  StateListing only;
  cep::service::listAggregate(only, header, views, "0123456789ab", false, one);
  REQUIRE(only.patterns.size() == 1);
  REQUIRE(only.patterns[0].keys.size() == 1);
  CHECK(only.patterns[0].keys[0].key_json == R"("b")");
  CHECK(only.windows_listed == 2);
  CHECK(only.patterns[0].windows_total == 5);

  // A key restored from a partition taken over ahead (its writer at 2000): listed with its
  // mark, without the window [-1000, 1000) that closed for good where it was written.
  std::vector<std::string> ahead = records;
  ahead[0] = agg::withFiredMark(agg::WindowKind::Hopping, records[0], 2000);
  std::vector<std::string_view> ahead_views(ahead.begin(), ahead.end());
  StateListing marked;
  cep::service::listAggregate(marked, header, ahead_views, "0123456789ab", false, StateFilter{});
  const std::string text = cep::service::formatStateListing(marked);
  CHECK(text.find("  key \"a\" (fired up to 1970-01-01T00:00:02.000Z where written)\n    window "
                  "[1970-01-01T00:00:00.000Z, 1970-01-01T00:00:02.000Z)") != std::string::npos);
  CHECK(text.find("  key \"b\"\n    window [1969-12-31T23:59:59.000Z") != std::string::npos);
  CHECK(marked.patterns[0].windows_total == 4);
  std::string marked_json = cep::service::stateListingJson(marked);
  CHECK(marked_json.find(R"("key":"a","fired_up_to":"1970-01-01T00:00:02.000Z")") !=
        std::string::npos);
  StateListing marked_back;
  REQUIRE(cep::service::parseStateListing(marked_json, marked_back, error));
  CHECK(cep::service::formatStateListing(marked_back) == text);

  records[1].pop_back(); // a damaged record is refused, not listed
  views.assign(records.begin(), records.end());
  StateListing bad;
  CHECK_THROWS_AS(
      cep::service::listAggregate(bad, header, views, "0123456789ab", false, StateFilter{}),
      std::runtime_error);
}
