#include "runtime/io/jsonl_decoder.hpp"

#include "runtime/io/json_scalars.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/io/record_plan.hpp"
#include "runtime/io/utf8.hpp"
#include "runtime/time/time_format.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <simdjson.h>
#include <string>
#include <vector>

namespace cep::runtime {

namespace od = simdjson::ondemand;
using json_scan::equalWords;
using json_scan::isDigit;
static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING);

namespace {

// Member names with a meaning of their own; they get the first ids in the name table.
constexpr std::uint32_t kTypeId = 0;
constexpr std::uint32_t kWatermarkId = 1;
// Nesting allowed inside ignored members (the decoder recurses to validate them).
constexpr int kMaxNesting = 128;
// Member positions whose name is predicted from the previous record.
constexpr std::size_t kMaxPredicted = 128;
// Names of extra members remembered (so they are predicted too); beyond, they are looked up.
constexpr std::size_t kMaxLearnedNames = 1024;
// Longest excerpt of a value quoted in a rejection reason.
constexpr std::size_t kMaxQuoted = 64;

enum class JsonKind : std::uint8_t {
  Null,
  Bool,
  Int,
  UInt,
  BigNumber,
  Float,
  String,
  Array,
  Object
};

// One member of the record being decoded, by name id; valid when `generation` is the decoder's.
struct Member {
  std::uint32_t generation = 0;
  JsonKind kind = JsonKind::Null;
  union {
    std::int64_t i = 0;
    std::uint64_t u;
    double f;
    bool b;
  };
  std::string_view text; // String: unescaped (in the parser's buffer); numbers: the token
};

std::uint32_t hashName(const char *data, std::size_t size) {
  std::uint32_t hash = 2166136261U; // FNV-1a
  for (std::size_t i = 0; i < size; ++i) {
    hash = (hash ^ static_cast<unsigned char>(data[i])) * 16777619U;
  }
  return hash;
}

// Bytes readable after every name in the table, so names compare a word at a time.
constexpr std::size_t kNamePadding = 8;

// Member names to dense ids: open addressing, so a lookup neither allocates nor copies the key.
class NameTable {
public:
  struct Name {
    const char *data; // kNamePadding zero bytes follow
    std::uint32_t size;
    std::uint32_t hash;
    bool plain; // nothing JSON escapes: comparable with a raw (still escaped) key
    bool ascii; // no byte >= 0x80 (a learned name may not be valid UTF-8)
  };

  std::uint32_t add(std::string_view name) {
    std::int32_t found = find(name.data(), name.size());
    if (found >= 0) {
      return static_cast<std::uint32_t>(found);
    }
    auto id = static_cast<std::uint32_t>(names_.size());
    std::unique_ptr<char[]> bytes(new char[name.size() + kNamePadding]());
    std::memcpy(bytes.get(), name.data(), name.size());
    bool plain = true, ascii = true;
    for (char c : name) {
      plain = plain && c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
      ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    }
    names_.push_back(Name{bytes.get(), static_cast<std::uint32_t>(name.size()),
                          hashName(name.data(), name.size()), plain, ascii});
    storage_.push_back(std::move(bytes));
    if (names_.size() * 2 > slots_.size()) {
      rehash(std::max<std::size_t>(16, slots_.size() * 2));
    } else {
      insert(id);
    }
    return id;
  }

  std::int32_t find(const char *data, std::size_t size) const {
    if (slots_.empty()) {
      return -1;
    }
    std::uint32_t hash = hashName(data, size);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      std::int32_t id = slots_[slot];
      if (id < 0) {
        return -1;
      }
      const Name &name = names_[static_cast<std::size_t>(id)];
      if (name.hash == hash && name.size == size && std::memcmp(name.data, data, size) == 0) {
        return id;
      }
    }
  }

  const Name &operator[](std::uint32_t id) const { return names_[id]; }
  std::string_view text(std::uint32_t id) const { return {names_[id].data, names_[id].size}; }
  std::size_t size() const { return names_.size(); }

private:
  void insert(std::uint32_t id) {
    std::size_t mask = slots_.size() - 1;
    std::size_t slot = names_[id].hash & mask;
    while (slots_[slot] >= 0) {
      slot = (slot + 1) & mask;
    }
    slots_[slot] = static_cast<std::int32_t>(id);
  }
  void rehash(std::size_t capacity) {
    slots_.assign(capacity, -1);
    for (std::uint32_t id = 0; id < names_.size(); ++id) {
      insert(id);
    }
  }

  std::vector<Name> names_;
  std::vector<std::unique_ptr<char[]>> storage_;
  std::vector<std::int32_t> slots_; // id or -1; size a power of two
};

std::string_view trimRight(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' ||
                            token.back() == '\n')) {
    token.remove_suffix(1);
  }
  return token;
}

// The JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool isJsonNumber(std::string_view token) {
  std::size_t pos = 0, n = token.size();
  if (pos < n && token[pos] == '-') {
    ++pos;
  }
  if (pos < n && token[pos] == '0') {
    ++pos;
  } else if (pos < n && token[pos] >= '1' && token[pos] <= '9') {
    while (pos < n && isDigit(token[pos])) {
      ++pos;
    }
  } else {
    return false;
  }
  if (pos < n && token[pos] == '.') {
    ++pos;
    if (pos >= n || !isDigit(token[pos])) {
      return false;
    }
    while (pos < n && isDigit(token[pos])) {
      ++pos;
    }
  }
  if (pos < n && (token[pos] == 'e' || token[pos] == 'E')) {
    ++pos;
    if (pos < n && (token[pos] == '+' || token[pos] == '-')) {
      ++pos;
    }
    if (pos >= n || !isDigit(token[pos])) {
      return false;
    }
    while (pos < n && isDigit(token[pos])) {
      ++pos;
    }
  }
  return pos == n;
}

bool isIntegerToken(std::string_view token) {
  return token.find_first_of(".eE") == std::string_view::npos;
}

std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(StringRef, data) + length;
  bytes = (bytes + alignof(StringRef) - 1) & ~(alignof(StringRef) - 1);
  return std::max(bytes, sizeof(StringRef));
}

// `"text"` JSON-escaped, cut after kMaxQuoted bytes (at a character boundary) with "...".
void appendQuoted(std::string &out, std::string_view text) {
  if (text.size() <= kMaxQuoted) {
    appendJsonString(out, text);
    return;
  }
  std::size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  appendJsonString(out, text.substr(0, cut));
  out.insert(out.size() - 1, "...");
}

const char *jsonTypeName(od::json_type type) {
  switch (type) {
  case od::json_type::array:
    return "array";
  case od::json_type::object:
    return "object";
  case od::json_type::number:
    return "number";
  case od::json_type::string:
    return "string";
  case od::json_type::boolean:
    return "bool";
  case od::json_type::null:
    return "null";
  }
  return "?";
}

const char *expectedText(FieldKind kind) {
  switch (kind) {
  case FieldKind::Time:
    return "time (epoch ms or RFC 3339 string)";
  case FieldKind::Duration:
    return "duration (integer ms)";
  default:
    return fieldKindName(kind);
  }
}

} // namespace

struct JsonlDecoder::Impl {
  const Schema *schema;
  DecoderOptions options;
  od::parser parser;
  NameTable names;
  std::vector<std::vector<std::uint32_t>> field_ids; // per type, per field: name id
  std::vector<Member> members;                       // per name id below known_names
  std::size_t known_names = 0; // "@type", "@watermark" and fields; later ids: extra members
  std::uint32_t generation = 0;
  // Per member position: the name id seen there last time (-1: none yet, or not remembered).
  std::int32_t predicted[kMaxPredicted];
  std::int32_t last_type = -1;
  std::string reason;
  std::vector<char> copy;
  Member scratch_member; // where the scanner reads the values of extra members
  // Per name id: the generation of the record that last named it (duplicate members are
  // rejected); the names of extra members the table does not remember, for this record.
  std::vector<std::uint32_t> seen;
  std::vector<std::string> unnamed_seen;

  // The record being decoded.
  const char *begin = nullptr;
  std::size_t size = 0;
  od::document *document = nullptr;
  Slot values[kMaxFields];
  std::string_view strings[kMaxFields];

  // Typed plans (record_plan.hpp): tried first, `plan_last` the one that decoded the last
  // record; a new one is built from a record the scanner read into an event (its shape:
  // `shape_current`), replacing the oldest (`plan_next`) when kMaxPlans are kept. Once they
  // are, only a shape seen twice in a row (`shape_repeated`) makes a new one, so that a stream
  // of ever-new shapes does not build a plan for every record.
  static constexpr std::size_t kMaxPlans = 8;
  std::vector<std::unique_ptr<RecordPlan>> plans;
  std::unique_ptr<RecordPlan> building;
  std::size_t plan_last = 0;
  std::size_t plan_next = 0;
  bool shape_current = false;
  bool shape_repeated = false;
  // Records in a row that no plan decoded; beyond kMaxPlanMisses the plans are tried on every
  // kPlanRetry-th record only (a stream whose records never fit a plan, e.g. each with escapes,
  // does not pay for trying them), until one decodes a record again or a new one is built.
  static constexpr std::uint32_t kMaxPlanMisses = 64;
  static constexpr std::uint32_t kPlanRetry = 16;
  std::uint32_t plan_misses = 0;
  DecoderCounts counts;

  Impl(const Schema &s, DecoderOptions o) : schema(&s), options(o) {
    CEP_ASSERT(names.add("@type") == kTypeId, "name table");
    CEP_ASSERT(names.add("@watermark") == kWatermarkId, "name table");
    for (const EventSchema &type : schema->types) {
      CEP_ASSERT(type.fields.size() <= kMaxFields, "too many fields in event type " + type.name);
      std::vector<std::uint32_t> ids;
      for (const FieldSchema &field : type.fields) {
        ids.push_back(names.add(field.name));
      }
      field_ids.push_back(std::move(ids));
    }
    known_names = names.size();
    members.resize(known_names);
    seen.assign(known_names + kMaxLearnedNames, 0);
    std::fill(std::begin(predicted), std::end(predicted), -1);
  }

  // ---- rejection reasons (the slow path) -------------------------------------------------

  DecodeResult rejected() {
    DecodeResult result;
    result.status = DecodeStatus::Rejected;
    result.reason = reason;
    return result;
  }

  void appendByte(const char *where) {
    if (where != nullptr && where >= begin && where <= begin + size) {
      reason += " at byte ";
      reason += std::to_string(where - begin + 1);
    }
  }

  bool notJson(simdjson::error_code error, const char *where) {
    std::string_view message = simdjson::error_message(error);
    if (!message.empty() && message.back() == '.') {
      message.remove_suffix(1);
    }
    reason.assign("not JSON: ");
    reason += message;
    if (error != simdjson::INCOMPLETE_ARRAY_OR_OBJECT) { // that one is about the end
      appendByte(where);
    }
    return false;
  }

  bool invalidLiteral(std::string_view token) {
    token = trimRight(token);
    reason.assign("not JSON: invalid literal ");
    appendQuoted(reason, token);
    appendByte(token.data());
    return false;
  }

  // A value that cannot start with its first character.
  bool unexpected(std::string_view token) {
    token = trimRight(token);
    reason.assign("not JSON: unexpected ");
    appendQuoted(reason, token);
    appendByte(token.data());
    return false;
  }

  // The record is JSON but not an object, or not JSON at all (`this is not json` starts like
  // `true`): read the root value to tell which.
  void notAnObject(od::document &doc, od::json_type root_type) {
    std::string_view token;
    if (doc.raw_json_token().get(token) != simdjson::SUCCESS) {
      token = {};
    }
    simdjson::error_code error = simdjson::SUCCESS;
    switch (root_type) {
    case od::json_type::array: {
      od::array array;
      if ((error = doc.get_array().get(array))) {
        notJson(error, token.data());
        return;
      }
      for (auto result : array) {
        if ((error = result.error())) {
          notJson(error, location());
          return;
        }
        if (!skipValue(result.value_unsafe(), 1)) {
          return;
        }
      }
      break;
    }
    case od::json_type::number: {
      od::number number;
      error = doc.get_number().get(number);
      if (error == simdjson::TRAILING_CONTENT) {
        notJson(error, nullptr);
        return;
      }
      if (error && !isJsonNumber(trimRight(token))) {
        notJson(error, token.data());
        return;
      }
      if (error) { // valid JSON beyond double: the iterator stays at the number
        reason.assign("not a JSON object: got number");
        return;
      }
      break;
    }
    case od::json_type::string: {
      std::string_view text;
      if ((error = doc.get_string().get(text))) {
        notJson(error, token.data());
        return;
      }
      break;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if ((error = doc.get_bool().get(flag))) {
        error == simdjson::TRAILING_CONTENT ? notJson(error, nullptr) : invalidLiteral(token);
        return;
      }
      break;
    }
    case od::json_type::null: {
      bool is_null = false;
      if ((error = doc.is_null().get(is_null)) || !is_null) {
        error == simdjson::TRAILING_CONTENT ? notJson(error, nullptr) : invalidLiteral(token);
        return;
      }
      break;
    }
    case od::json_type::object:
      break;
    }
    if (const char *trailing = location()) {
      notJson(simdjson::TRAILING_CONTENT, trailing);
      return;
    }
    reason.assign("not a JSON object: got ");
    reason += jsonTypeName(root_type);
  }

  bool tooDeep(const char *where) {
    reason.assign("not JSON: nested deeper than ");
    reason += std::to_string(kMaxNesting);
    reason += " levels";
    appendByte(where);
    return false;
  }

  const char *location() {
    const char *where = nullptr;
    if (document->current_location().get(where) != simdjson::SUCCESS) {
      return nullptr;
    }
    return where;
  }

  // Stage 1 (structural indexing) errors come without a position: find it for the common ones.
  void notJsonWhole(simdjson::error_code error) {
    const char *where = nullptr;
    std::string_view text(begin, size);
    if (error == simdjson::UTF8_ERROR) {
      where = begin + utf8ValidPrefix(text);
    } else if (error == simdjson::UNESCAPED_CHARS) {
      bool in_string = false;
      for (std::size_t i = 0; i < size && where == nullptr; ++i) {
        char c = begin[i];
        if (in_string && c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = !in_string;
        } else if (in_string && static_cast<unsigned char>(c) < 0x20) {
          where = begin + i;
        }
      }
    }
    notJson(error, where);
  }

  void describeValue(const Member &member) {
    switch (member.kind) {
    case JsonKind::Null:
      reason += "null";
      break;
    case JsonKind::Bool:
      reason += member.b ? "bool true" : "bool false";
      break;
    case JsonKind::Int:
    case JsonKind::UInt:
      reason += "int ";
      reason += member.text;
      break;
    case JsonKind::BigNumber:
      reason += isIntegerToken(member.text) ? "int " : "float ";
      reason += member.text;
      break;
    case JsonKind::Float:
      reason += "float ";
      reason += member.text;
      break;
    case JsonKind::String:
      reason += "string ";
      appendQuoted(reason, member.text);
      break;
    case JsonKind::Array:
      reason += "array";
      break;
    case JsonKind::Object:
      reason += "object";
      break;
    }
  }

  // Reasons about one member start with its label: `field "amount": ` or `"@type": `.
  void startReason(std::uint32_t id) {
    if (id == kTypeId || id == kWatermarkId) {
      reason.assign("\"");
      reason += names.text(id);
      reason += "\": ";
    } else {
      reason.assign("field \"");
      reason += names.text(id);
      reason += "\": ";
    }
  }

  bool wrongType(std::uint32_t id, const char *expected, const Member &member) {
    startReason(id);
    reason += "expected ";
    reason += expected;
    reason += ", got ";
    describeValue(member);
    return false;
  }

  // An event time or watermark outside the plausible range (DecoderOptions::time_min/max).
  // Inline: every event's time is checked; the reason is built out of line.
  [[gnu::always_inline]] bool inTimeRange(std::uint32_t id, const Member &member,
                                          std::int64_t time) {
    return (time >= options.time_min &&
            (time < options.time_max ||
             options.time_max == std::numeric_limits<std::int64_t>::max())) ||
           outOfTimeRange(id, member, time);
  }
  [[gnu::noinline]] bool outOfTimeRange(std::uint32_t id, const Member &member, std::int64_t time) {
    startReason(id);
    reason += id == kWatermarkId ? "watermark " : "event time ";
    if (member.kind == JsonKind::String) {
      appendQuoted(reason, member.text);
    } else {
      appendJsonInt(reason, time);
    }
    reason += " is outside the accepted range ";
    reason += formatRfc3339(options.time_min);
    reason += " .. ";
    reason += formatRfc3339(options.time_max);
    reason += " (--event-time-range)";
    return false;
  }

  bool outOfRange(std::uint32_t id, const char *kind, const Member &member) {
    startReason(id);
    reason += isIntegerToken(member.text) ? "integer " : "number ";
    reason += member.text;
    reason += " out of range for ";
    reason += kind;
    return false;
  }

  // ---- pass over the record's members ----------------------------------------------------

  // Reads any value to the end, so that the whole record is known to be valid JSON (it may be
  // written out again verbatim with `--with-events`).
  bool skipValue(od::value &value, int depth) {
    std::string_view token = value.raw_json_token();
    if (depth > kMaxNesting) {
      return tooDeep(token.data());
    }
    od::json_type type;
    simdjson::error_code error = value.type().get(type);
    if (error) {
      return unexpected(token);
    }
    switch (type) {
    case od::json_type::object: {
      od::object object;
      if ((error = value.get_object().get(object))) {
        return notJson(error, token.data());
      }
      for (auto result : object) {
        if ((error = result.error())) {
          return notJson(error, location());
        }
        od::field &field = result.value_unsafe();
        const char *key_at = field.key().raw();
        std::string_view key;
        if ((error = field.unescaped_key().get(key))) {
          return notJson(error, key_at);
        }
        if (!skipValue(field.value(), depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case od::json_type::array: {
      od::array array;
      if ((error = value.get_array().get(array))) {
        return notJson(error, token.data());
      }
      for (auto result : array) {
        if ((error = result.error())) {
          return notJson(error, location());
        }
        if (!skipValue(result.value_unsafe(), depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case od::json_type::number: {
      od::number number;
      if ((error = value.get_number().get(number)) && !isJsonNumber(trimRight(token))) {
        return notJson(error, token.data());
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view text;
      if ((error = value.get_string().get(text))) {
        return notJson(error, token.data());
      }
      return true;
    }
    case od::json_type::boolean: {
      bool flag = false;
      return value.get_bool().get(flag) == simdjson::SUCCESS || invalidLiteral(token);
    }
    case od::json_type::null: {
      bool is_null = false;
      return (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) ||
             invalidLiteral(token);
    }
    }
    return true;
  }

  bool readValue(od::value &value, Member &member) {
    std::string_view token = value.raw_json_token();
    od::json_type type;
    simdjson::error_code error = value.type().get(type);
    if (error) {
      return unexpected(token);
    }
    switch (type) {
    case od::json_type::number: {
      od::number number;
      error = value.get_number().get(number);
      member.text = trimRight(token);
      if (error) {
        if (!isJsonNumber(member.text)) {
          return notJson(error, token.data());
        }
        member.kind = JsonKind::BigNumber; // valid JSON, beyond int64/uint64/double
        return true;
      }
      switch (number.get_number_type()) {
      case od::number_type::signed_integer:
        member.kind = JsonKind::Int;
        member.i = number.get_int64();
        break;
      case od::number_type::unsigned_integer:
        member.kind = JsonKind::UInt;
        member.u = number.get_uint64();
        break;
      case od::number_type::floating_point_number: {
        // From the text: simdjson 3.0.1's get_number() gives 0 for floats of 19 or more
        // significant digits; from_chars rounds every valid JSON number correctly.
        member.kind = JsonKind::Float;
        auto [end, ec] =
            std::from_chars(member.text.data(), member.text.data() + member.text.size(), member.f);
        if (ec != std::errc() || end != member.text.data() + member.text.size()) {
          member.f = number.get_double();
        }
        break;
      }
      }
      return true;
    }
    case od::json_type::string:
      member.kind = JsonKind::String;
      if ((error = value.get_string().get(member.text))) {
        return notJson(error, token.data());
      }
      return true;
    case od::json_type::boolean:
      member.kind = JsonKind::Bool;
      if (value.get_bool().get(member.b) != simdjson::SUCCESS) {
        return invalidLiteral(token);
      }
      return true;
    case od::json_type::null: {
      member.kind = JsonKind::Null;
      bool is_null = false;
      return (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) ||
             invalidLiteral(token);
    }
    case od::json_type::array:
      member.kind = JsonKind::Array;
      return skipValue(value, 0);
    case od::json_type::object:
      member.kind = JsonKind::Object;
      return skipValue(value, 0);
    }
    return true;
  }

  bool readMember(od::field &field, std::size_t position) {
    const char *raw = field.key().raw(); // just after the opening quote, still escaped
    // Most records repeat the previous one's member order: compare the raw key with the name
    // seen at this position last time. The key is inside the line and closed by a quote.
    std::int32_t id = predictedName(raw, begin + size, position);
    if (id == kNoPrediction) {
      const char *p = raw; // the key is closed by a quote inside the line (stage 1 checked)
      while (*p != '"' && *p != '\\') {
        ++p;
      }
      std::string_view key(raw, static_cast<std::size_t>(p - raw));
      if (*p != '"') {
        if (simdjson::error_code error = field.unescaped_key().get(key)) {
          return notJson(error, raw);
        }
      }
      id = learnName(key, position);
      if (id < 0) {
        if (std::find(unnamed_seen.begin(), unnamed_seen.end(), key) != unnamed_seen.end()) {
          return duplicate(key);
        }
        unnamed_seen.emplace_back(key);
      }
    }
    if (id >= 0 && !firstTime(id)) {
      return duplicate(names.text(static_cast<std::uint32_t>(id)));
    }
    od::value &value = field.value();
    if (id < 0 || static_cast<std::size_t>(id) >= known_names) {
      return skipValue(value, 0); // an extra member: ignored, but it must be JSON
    }
    Member &member = members[static_cast<std::size_t>(id)];
    member.generation = generation;
    return readValue(value, member);
  }

  // ---- the fast scanner -------------------------------------------------------------------

  void nextGeneration() {
    if (++generation == 0) {
      for (Member &member : members) {
        member.generation = 0;
      }
      std::fill(seen.begin(), seen.end(), 0);
      generation = 1;
    }
    unnamed_seen.clear();
  }

  // False when the record already named `id` (-1: an extra member the table does not remember,
  // named `key`); records that it did.
  bool firstTime(std::int32_t id) {
    std::uint32_t &last = seen[static_cast<std::size_t>(id)];
    if (last == generation) {
      return false;
    }
    last = generation;
    return true;
  }

  bool duplicate(std::string_view key) {
    reason.assign("duplicate member ");
    appendQuoted(reason, key);
    reason += " (a record may name each member only once)";
    return false;
  }

  // The name id of the key whose raw (still escaped) text starts at `raw` and is `length` bytes
  // without escapes, at member `position`; -1 for an extra member that is not remembered.
  // Remembers the name seen at this position for the prediction (see readMember).
  std::int32_t learnName(std::string_view key, std::size_t position) {
    std::int32_t id = names.find(key.data(), key.size());
    if (id < 0 && names.size() < known_names + kMaxLearnedNames) {
      id = static_cast<std::int32_t>(names.add(key)); // an extra member's name, for next time
    }
    if (position < kMaxPredicted) {
      predicted[position] = id;
    }
    return id;
  }

  // The name predicted at `position` when the key at `raw` (just after its opening quote) is
  // exactly that name; kNoPrediction otherwise. `end` is the end of the record; kLinePadding
  // readable bytes follow it, so the word-wise compare stays in readable memory.
  static constexpr std::int32_t kNoPrediction = -2;
  std::int32_t predictedName(const char *raw, const char *end, std::size_t position) const {
    if (position < kMaxPredicted && predicted[position] >= 0) {
      auto guess = static_cast<std::uint32_t>(predicted[position]);
      const NameTable::Name &name = names[guess];
      if (name.plain && name.size < static_cast<std::size_t>(end - raw) && raw[name.size] == '"' &&
          equalWords(raw, name.data, name.size)) {
        return static_cast<std::int32_t>(guess);
      }
    }
    return kNoPrediction;
  }

  // Pass 1 without simdjson, for the common record: one flat object of keys and scalar values
  // without escapes or control characters, integers of at most 18 digits, short decimal
  // floats. Stores the members exactly as readMember would and returns true; returns false as
  // soon as the record is anything else (including every invalid record), leaving the exact
  // verdict to parseMembers. What it accepts is valid JSON (UTF-8 is checked when a string has
  // non-ASCII bytes).
  bool scanFlat(std::size_t &member_count) {
    if (scanShape(member_count)) {
      return true;
    }
    nextGeneration(); // forget what scanShape stored
    const char *p = begin;
    const char *const end = begin + size;
    bool non_ascii = false;
    auto skipSpace = [&] {
      while (p < end && (*p == ' ' || *p == '\t')) {
        ++p;
      }
    };
    // Where each member's value starts and the bytes before it (from the end of the previous
    // value) began: the record's shape, for scanShape.
    std::size_t count = 0;
    const char *literal = p;
    shape_size = 0;
    bool shape_fits = true;
    skipSpace();
    if (p == end || *p != '{') {
      return false;
    }
    ++p;
    skipSpace();
    if (p < end && *p == '}') {
      ++p;
      shape_fits = false; // nothing to predict
    } else {
      for (;;) {
        if (p == end || *p != '"') {
          return false;
        }
        ++p;
        std::int32_t id = predictedName(p, end, count);
        if (id != kNoPrediction) {
          const NameTable::Name &name = names[static_cast<std::uint32_t>(id)];
          non_ascii |= !name.ascii;
          p += name.size + 1;
        } else {
          std::string_view key;
          if (!scanStringBody(p, end, key, non_ascii)) {
            return false;
          }
          id = learnName(key, count);
        }
        if (id < 0 || !firstTime(id)) {
          return false; // a duplicate (or a name not remembered): simdjson says which
        }
        skipSpace();
        if (p == end || *p != ':') {
          return false;
        }
        ++p;
        skipSpace();
        Member &member = memberFor(id);
        if (shape_fits && count < kMaxShape) {
          shape[count] = ShapeStep{static_cast<std::uint32_t>(literal - begin),
                                   static_cast<std::uint32_t>(p - literal), &member};
        } else {
          shape_fits = false;
        }
        if (!scanScalar(p, end, member, non_ascii)) {
          return false;
        }
        member.generation = generation;
        ++count;
        literal = p;
        skipSpace();
        if (p == end) {
          return false;
        }
        if (*p == ',') {
          ++p;
          skipSpace();
          continue;
        }
        if (*p != '}') {
          return false;
        }
        ++p;
        break;
      }
    }
    skipSpace();
    if (p != end) {
      return false;
    }
    if (non_ascii && utf8ValidPrefix(std::string_view(begin, size)) != size) {
      return false;
    }
    member_count = count;
    if (shape_fits) {
      rememberShape(count, literal);
    }
    return true;
  }

  // ---- the record's shape ------------------------------------------------------------------
  //
  // Machine-written records repeat the previous one's bytes between their values (`{"type":`,
  // `,"key":`, `,"ts":`, `}`). The last flat record scanned leaves those literals behind; the
  // next one is first tried against them: each literal compared a word at a time, then the
  // value after it read as scanFlat would read it. Any difference and scanFlat starts over.

  struct ShapeStep {
    std::uint32_t offset; // of the literal before the value, in shape_bytes (first: the record)
    std::uint32_t size;
    Member *member; // where the value goes (a field's member, or scratch_member)
  };
  static constexpr std::size_t kMaxShape = 64;
  static constexpr std::size_t kMaxShapeBytes = 1024;
  // The last flat record's shape; shape_size 0: none. shape_bytes: the literals back to back,
  // then kNamePadding zero bytes.
  ShapeStep shape[kMaxShape];
  std::size_t shape_size = 0;
  std::vector<char> shape_bytes;
  std::uint32_t shape_close_offset = 0;
  std::uint32_t shape_close_size = 0;
  bool shape_non_ascii = false;

  Member &memberFor(std::int32_t id) {
    return id >= 0 && static_cast<std::size_t>(id) < known_names
               ? members[static_cast<std::size_t>(id)]
               : scratch_member;
  }

  // Called after a successful scanFlat: shape[0, count) hold offsets into the record; the
  // closing literal runs from `closing` to the end.
  void rememberShape(std::size_t count, const char *closing) {
    shape_size = 0;
    std::size_t total = static_cast<std::size_t>(begin + size - closing);
    for (std::size_t i = 0; i < count; ++i) {
      total += shape[i].size;
    }
    if (total > kMaxShapeBytes) {
      return;
    }
    shape_bytes.assign(total + kNamePadding, '\0');
    std::size_t at = 0;
    shape_non_ascii = false;
    auto copy = [&](const char *from, std::size_t n) {
      std::memcpy(shape_bytes.data() + at, from, n);
      for (std::size_t i = 0; i < n; ++i) {
        shape_non_ascii |= static_cast<unsigned char>(from[i]) >= 0x80;
      }
      at += n;
    };
    for (std::size_t i = 0; i < count; ++i) {
      const char *from = begin + shape[i].offset;
      shape[i].offset = static_cast<std::uint32_t>(at);
      copy(from, shape[i].size);
    }
    shape_close_offset = static_cast<std::uint32_t>(at);
    shape_close_size = static_cast<std::uint32_t>(begin + size - closing);
    copy(closing, shape_close_size);
    shape_size = count;
    shape_current = true;
  }

  bool scanShape(std::size_t &member_count) {
    if (shape_size == 0) {
      return false;
    }
    const char *p = begin;
    const char *const end = begin + size;
    const char *bytes = shape_bytes.data();
    bool non_ascii = shape_non_ascii;
    for (std::size_t i = 0; i < shape_size; ++i) {
      const ShapeStep &step = shape[i];
      // The literal and at least one byte of the value are inside the record; the word-wise
      // compare may read up to 7 bytes past both (the padding after each).
      if (static_cast<std::size_t>(end - p) <= step.size ||
          !equalWords(p, bytes + step.offset, step.size)) {
        return false;
      }
      p += step.size;
      if (!scanScalar(p, end, *step.member, non_ascii)) {
        return false;
      }
      step.member->generation = generation;
    }
    if (static_cast<std::size_t>(end - p) != shape_close_size ||
        !equalWords(p, bytes + shape_close_offset, shape_close_size)) {
      return false;
    }
    if (non_ascii && utf8ValidPrefix(std::string_view(begin, size)) != size) {
      return false;
    }
    member_count = shape_size;
    shape_current = true;
    shape_repeated = true;
    return true;
  }

  // The body of a string after its opening quote, up to its closing quote (no escapes, no
  // control characters); p moves past the closing quote.
  static bool scanStringBody(const char *&p, const char *end, std::string_view &out,
                             bool &non_ascii) {
    const char *start = p;
    for (; p < end; ++p) {
      auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p - start));
        ++p;
        return true;
      }
      if (c == '\\' || c < 0x20) {
        return false;
      }
      non_ascii |= c >= 0x80;
    }
    return false;
  }

  // A scalar value at p (not at the end) into `member` (kind, value, text), as readValue
  // stores it; false for anything scanFlat leaves to simdjson. p moves past it.
  [[gnu::always_inline]] static bool scanScalar(const char *&p, const char *end, Member &member,
                                                bool &non_ascii) {
    if (p == end) {
      return false;
    }
    const char *token = p;
    char c = *p;
    if (c == '"') {
      ++p;
      if (!scanStringBody(p, end, member.text, non_ascii)) {
        return false;
      }
      member.kind = JsonKind::String;
    } else if (c == '-' || isDigit(c)) {
      if (!scanNumber(p, end, member)) {
        return false;
      }
      member.text = std::string_view(token, static_cast<std::size_t>(p - token));
    } else if (c == 't' && end - p >= 4 && std::memcmp(p, "true", 4) == 0) {
      member.kind = JsonKind::Bool;
      member.b = true;
      p += 4;
    } else if (c == 'f' && end - p >= 5 && std::memcmp(p, "false", 5) == 0) {
      member.kind = JsonKind::Bool;
      member.b = false;
      p += 5;
    } else if (c == 'n' && end - p >= 4 && std::memcmp(p, "null", 4) == 0) {
      member.kind = JsonKind::Null;
      p += 4;
    } else {
      return false; // nested, or not JSON
    }
    return true;
  }

  // A JSON number at `p` that the scanner reads exactly as simdjson does (json_scalars.hpp).
  static bool scanNumber(const char *&p, const char *end, Member &member) {
    json_scan::Number number;
    if (!json_scan::scanNumber(p, end, number)) {
      return false;
    }
    if (number.is_float) {
      member.kind = JsonKind::Float;
      member.f = number.f;
    } else {
      member.kind = JsonKind::Int;
      member.i = number.i;
    }
    return true;
  }

  // ---- conversion to the declared types --------------------------------------------------

  bool toInstant(std::uint32_t id, const Member &member, std::int64_t &out) {
    switch (member.kind) {
    case JsonKind::Int:
      out = member.i;
      return true;
    case JsonKind::String: {
      if (parseRfc3339(member.text, out)) {
        return true;
      }
      std::string why;
      parseRfc3339(member.text, out, &why);
      startReason(id);
      reason += "invalid time ";
      appendQuoted(reason, member.text);
      reason += ": ";
      reason += why;
      return false;
    }
    case JsonKind::UInt:
      return outOfRange(id, "time", member);
    case JsonKind::BigNumber:
      if (isIntegerToken(member.text)) {
        return outOfRange(id, "time", member);
      }
      [[fallthrough]];
    default:
      return wrongType(
          id, id == kWatermarkId ? "epoch ms or RFC 3339 string" : expectedText(FieldKind::Time),
          member);
    }
  }

  bool toInteger(std::uint32_t id, FieldKind kind, const Member &member, std::int64_t &out) {
    switch (member.kind) {
    case JsonKind::Int:
      out = member.i;
      return true;
    case JsonKind::UInt:
      return outOfRange(id, fieldKindName(kind), member);
    case JsonKind::BigNumber:
      if (isIntegerToken(member.text)) {
        return outOfRange(id, fieldKindName(kind), member);
      }
      [[fallthrough]];
    default:
      return wrongType(id, expectedText(kind), member);
    }
  }

  bool toFloat(std::uint32_t id, const Member &member, double &out) {
    switch (member.kind) {
    case JsonKind::Int:
      out = static_cast<double>(member.i);
      return true;
    case JsonKind::UInt:
      out = static_cast<double>(member.u);
      return true;
    case JsonKind::Float:
      out = member.f;
      return true;
    case JsonKind::BigNumber: {
      const char *first = member.text.data();
      const char *last = first + member.text.size();
      auto [ptr, ec] = std::from_chars(first, last, out);
      if (ec == std::errc() && ptr == last) {
        return true;
      }
      return outOfRange(id, "float", member);
    }
    default:
      return wrongType(id, "float", member);
    }
  }

  bool convertField(std::uint32_t id, const FieldSchema &field, const Member &member, Slot &slot,
                    std::string_view &text) {
    slot.i = 0;
    switch (field.kind) {
    case FieldKind::Bool:
      if (member.kind != JsonKind::Bool) {
        return wrongType(id, "bool", member);
      }
      slot.b = member.b;
      return true;
    case FieldKind::Int:
    case FieldKind::Duration:
      return toInteger(id, field.kind, member, slot.i);
    case FieldKind::Float:
      return toFloat(id, member, slot.f);
    case FieldKind::String:
      if (member.kind != JsonKind::String) {
        return wrongType(id, "string", member);
      }
      text = member.text;
      return true;
    case FieldKind::Time:
      if (member.kind == JsonKind::Int) { // epoch ms, the usual form
        slot.i = member.i;
        return true;
      }
      return toInstant(id, member, slot.i);
    }
    return true;
  }

  std::int32_t findType(std::string_view name) {
    if (last_type >= 0 && schema->types[static_cast<std::size_t>(last_type)].name == name) {
      return last_type;
    }
    std::int32_t index = schema->typeIndex(name);
    if (index >= 0) {
      last_type = index;
    }
    return index;
  }

  // Pass 1 with simdjson On Demand: false with `reason` set when the record is rejected.
  bool parseMembers(std::size_t capacity, std::size_t &member_count) {
    od::document doc;
    simdjson::error_code error = parser.iterate(begin, size, capacity).get(doc);
    if (error) {
      notJsonWhole(error);
      return false;
    }
    document = &doc;
    od::json_type root_type;
    if ((error = doc.type().get(root_type))) {
      std::string_view token;
      if (doc.raw_json_token().get(token) == simdjson::SUCCESS) {
        unexpected(token);
      } else {
        notJson(error, location());
      }
      return false;
    }
    if (root_type != od::json_type::object) {
      notAnObject(doc, root_type);
      return false;
    }
    od::object object;
    if ((error = doc.get_object().get(object))) {
      notJson(error, location());
      return false;
    }
    // The members are used in place (value_unsafe after the error check): copying each field
    // out of its simdjson_result costs a store-forwarding stall per member.
    for (auto result : object) {
      if ((error = result.error())) {
        notJson(error, location());
        return false;
      }
      if (!readMember(result.value_unsafe(), member_count)) {
        return false;
      }
      ++member_count;
    }
    if (const char *trailing = location()) {
      notJson(simdjson::TRAILING_CONTENT, trailing);
      return false;
    }

    return true;
  }

  // ---- one record --------------------------------------------------------------------------

  // Out of line: JsonlDecoder::decode's path for the usual record keeps a small frame.
  [[gnu::noinline]] DecodeResult decode(std::string_view text, std::size_t capacity,
                                        const RecordContext &context,
                                        bool last_layout_tried = false) {
    begin = text.data();
    size = text.size();
    if (size > std::numeric_limits<std::uint32_t>::max()) {
      reason.assign("record larger than 4 GiB");
      return rejected();
    }
    CEP_ASSERT(capacity >= size + simdjson::SIMDJSON_PADDING, "record without padding");
    CEP_ASSERT(context.bound_type < static_cast<std::int32_t>(schema->types.size()),
               "bound type out of range");
    // A typed plan for the record's type and shape first (record_plan.hpp).
    bool try_plans = !plans.empty();
    if (try_plans && plan_misses >= kMaxPlanMisses) {
      plan_misses = kMaxPlanMisses + (plan_misses + 1 - kMaxPlanMisses) % kPlanRetry;
      try_plans = plan_misses == kMaxPlanMisses;
    }
    if (try_plans) {
      if (Event *event = decodeByPlan(text, context, last_layout_tried)) {
        plan_misses = 0;
        DecodeResult result;
        result.event = EventRef(event);
        result.status = DecodeStatus::Event;
        return result;
      }
      plan_misses += plan_misses < kMaxPlanMisses ? 1 : 0;
    }
    shape_current = false;
    shape_repeated = false;
    nextGeneration();

    // Pass 1: every member, in record order, into `members` by name. Flat records of plain
    // scalars take the fast scanner; anything it does not handle (nesting, escapes, floats it
    // cannot read exactly, errors of any kind) is parsed again by simdjson, which also gives
    // the exact rejection reasons.
    std::size_t member_count = 0;
    if (!options.fast_path || !scanFlat(member_count)) {
      nextGeneration(); // forget what the scanner stored
      member_count = 0;
      shape_current = false;
      if (!parseMembers(capacity, member_count)) {
        return rejected();
      }
    }

    // Watermark instruction?
    const Member &watermark = members[kWatermarkId];
    if (watermark.generation == generation) {
      if (member_count != 1) {
        reason.assign("a \"@watermark\" record must have no other members");
        return rejected();
      }
      DecodeResult result;
      if (!toInstant(kWatermarkId, watermark, result.watermark) ||
          !inTimeRange(kWatermarkId, watermark, result.watermark)) {
        return rejected();
      }
      result.status = DecodeStatus::Watermark;
      return result;
    }

    // The event type.
    std::int32_t type_index = context.bound_type;
    const Member &type_member = members[kTypeId];
    if (type_member.generation == generation) {
      if (type_member.kind != JsonKind::String) {
        wrongType(kTypeId, "string", type_member);
        return rejected();
      }
      std::int32_t named = findType(type_member.text);
      if (context.bound_type >= 0 && named != context.bound_type) {
        reason.assign("@type ");
        appendQuoted(reason, type_member.text);
        reason += " does not match the input's type ";
        appendQuoted(reason, schema->types[static_cast<std::size_t>(context.bound_type)].name);
        return rejected();
      }
      if (named < 0) {
        reason.assign("unknown @type ");
        appendQuoted(reason, type_member.text);
        return rejected();
      }
      type_index = named;
    } else if (type_index < 0) {
      if (schema->types.size() != 1) {
        reason.assign("missing \"@type\" (");
        reason += std::to_string(schema->types.size());
        reason += " event types are declared)";
        return rejected();
      }
      type_index = 0;
    }

    // Pass 2: the type's fields, in declaration order (the first bad one is reported).
    const EventSchema &type = schema->types[static_cast<std::size_t>(type_index)];
    const std::vector<std::uint32_t> &ids = field_ids[static_cast<std::size_t>(type_index)];
    const std::size_t field_count = type.fields.size();
    std::uint64_t nulls = 0;
    std::size_t extra = options.keep_raw ? size : 0;
    for (std::size_t i = 0; i < field_count; ++i) {
      const FieldSchema &field = type.fields[i];
      const Member &member = members[ids[i]];
      if (member.generation != generation || member.kind == JsonKind::Null) {
        if (!field.nullable) {
          if (member.generation != generation) {
            reason.assign("missing field ");
            appendQuoted(reason, field.name);
            reason += " (";
            reason += fieldKindName(field.kind);
            reason += ")";
          } else {
            wrongType(ids[i], expectedText(field.kind), member);
          }
          return rejected();
        }
        nulls |= std::uint64_t{1} << i;
        continue;
      }
      if (!convertField(ids[i], field, member, values[i], strings[i])) {
        return rejected();
      }
      if (static_cast<std::int32_t>(i) == type.time_field &&
          !inTimeRange(ids[i], member, values[i].i)) {
        return rejected();
      }
      if (field.kind == FieldKind::String) {
        extra += stringBytes(strings[i].size());
      }
    }

    // One allocation: header, slots, strings, raw record.
    Event *event = allocateEvent(static_cast<std::uint32_t>(type_index),
                                 static_cast<std::uint32_t>(field_count), extra);
    DecodeResult result;
    result.event = EventRef(event);
    result.status = DecodeStatus::Event;
    Slot *slots = event->slots();
    char *cursor = extraBegin(event);
    for (std::size_t i = 0; i < field_count; ++i) {
      if ((nulls >> i) & 1U) {
        continue;
      }
      if (type.fields[i].kind == FieldKind::String) {
        auto *ref = reinterpret_cast<StringRef *>(cursor);
        ref->size = static_cast<std::uint32_t>(strings[i].size());
        std::memcpy(cursor + offsetof(StringRef, data), strings[i].data(), strings[i].size());
        slots[i].s = ref;
        cursor += stringBytes(strings[i].size());
      } else {
        slots[i] = values[i];
      }
    }
    event->nulls = nulls;
    if (options.keep_raw) {
      std::memcpy(cursor, begin, size);
      event->raw = cursor;
      event->raw_size = static_cast<std::uint32_t>(size);
    }
    std::int32_t time_field = type.time_field;
    event->time = time_field >= 0 && !((nulls >> time_field) & 1U) ? slots[time_field].i
                                                                   : context.ingestion_time;
    event->seq = context.seq;
    event->input = context.input;
    event->line = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(context.line, std::numeric_limits<std::uint32_t>::max()));
    if (shape_current && options.record_plans) {
      addPlan(type_index, context.bound_type);
    }
    return result;
  }

  // ---- typed plans ---------------------------------------------------------------------------

  // `last_layout_tried`: JsonlDecoder::decode has tried the last plan's layout.
  Event *decodeByPlan(std::string_view text, const RecordContext &context, bool last_layout_tried) {
    bool by_layout = false;
    if (Event *event =
            plans[plan_last]->decode(text, context, options, !last_layout_tried, by_layout)) {
      ++counts.plan_events;
      counts.tight_events += plans[plan_last]->tight() && !options.keep_raw;
      counts.layout_events += by_layout;
      return event;
    }
    for (std::size_t i = 0; i < plans.size(); ++i) {
      if (i == plan_last) {
        continue;
      }
      if (Event *event = plans[i]->decode(text, context, options, true, by_layout)) {
        plan_last = i;
        ++counts.plan_events;
        counts.tight_events += plans[i]->tight() && !options.keep_raw;
        counts.layout_events += by_layout;
        return event;
      }
    }
    return nullptr;
  }

  // A plan for the record just decoded by the scanner into an event of type `type_index`: the
  // remembered shape, the "@type" member with its value as part of the literal.
  void addPlan(std::int32_t type_index, std::int32_t bound_type) {
    if (plans.size() == kMaxPlans && !shape_repeated) {
      return;
    }
    if (!building) {
      building = std::make_unique<RecordPlan>();
    }
    RecordPlan &plan = *building;
    const auto index = static_cast<std::size_t>(type_index);
    const std::vector<std::uint32_t> &ids = field_ids[index];
    plan.start(schema->types[index], type_index, bound_type);
    const char *bytes = shape_bytes.data();
    for (std::size_t i = 0; i < shape_size; ++i) {
      const ShapeStep &step = shape[i];
      plan.appendLiteral(std::string_view(bytes + step.offset, step.size));
      if (step.member == &members[kTypeId]) {
        // The scanner read it: no escapes, so its text is the bytes between the quotes.
        plan.appendLiteral("\"");
        plan.appendLiteral(members[kTypeId].text);
        plan.appendLiteral("\"");
        continue;
      }
      if (step.member == &members[kWatermarkId]) {
        return; // not an event record
      }
      std::uint32_t field = RecordPlan::kSkip;
      if (step.member != &scratch_member) {
        auto id = static_cast<std::uint32_t>(step.member - members.data());
        auto found = std::find(ids.begin(), ids.end(), id);
        if (found != ids.end()) {
          field = static_cast<std::uint32_t>(found - ids.begin());
        }
      }
      plan.addValue(field);
    }
    plan.appendLiteral(std::string_view(bytes + shape_close_offset, shape_close_size));
    if (!plan.finish()) {
      return;
    }
    for (const auto &existing : plans) {
      if (existing->sameAs(plan)) {
        return;
      }
    }
    if (plans.size() < kMaxPlans) {
      plan_last = plans.size();
      plans.push_back(std::move(building));
    } else {
      plan_last = plan_next;
      std::swap(plans[plan_next], building);
      plan_next = (plan_next + 1) % kMaxPlans;
    }
    ++counts.plans_built;
    plan_misses = 0;
  }
};

JsonlDecoder::JsonlDecoder(const Schema &schema, DecoderOptions options)
    : impl_(std::make_unique<Impl>(schema, options)) {}

JsonlDecoder::~JsonlDecoder() = default;

DecoderCounts JsonlDecoder::counts() const {
  return impl_->counts;
}

DecodeResult JsonlDecoder::decode(std::string_view text, std::size_t capacity,
                                  const RecordContext &context) {
  // The usual record first: the shape of the plan that decoded the last one, its values of the
  // widths they had in the last record of its length (record_plan.hpp, "layouts").
  Impl &impl = *impl_;
  if (!impl.plans.empty()) {
    CEP_ASSERT(capacity >= text.size() + simdjson::SIMDJSON_PADDING, "record without padding");
    if (Event *event = impl.plans[impl.plan_last]->decodeByLayout(text, context, impl.options)) {
      impl.plan_misses = 0;
      ++impl.counts.plan_events;
      ++impl.counts.tight_events;
      ++impl.counts.layout_events;
      DecodeResult result;
      result.event = EventRef(event);
      result.status = DecodeStatus::Event;
      return result;
    }
  }
  return impl.decode(text, capacity, context, !impl.plans.empty());
}

DecodeResult JsonlDecoder::decodeCopy(std::string_view text, const RecordContext &context) {
  std::vector<char> &copy = impl_->copy;
  copy.assign(text.size() + kLinePadding, '\0');
  std::memcpy(copy.data(), text.data(), text.size());
  return impl_->decode(std::string_view(copy.data(), text.size()), copy.size(), context);
}

} // namespace cep::runtime
