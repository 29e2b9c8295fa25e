#include "jsonl_writer.hpp"

#include "countries.hpp"
#include "keys.hpp"
#include "merchants.hpp"
#include "time_format.hpp"

#include <charconv>

namespace cep::tools {

namespace {

void appendInteger(std::string &out, std::uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void appendInteger(std::string &out, std::int64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

std::string_view typeName(EventType type) {
  switch (type) {
  case EventType::Payment:
    return "Payment";
  case EventType::Login:
    return "Login";
  case EventType::PasswordReset:
    return "PasswordReset";
  case EventType::Withdrawal:
    return "Withdrawal";
  case EventType::Order:
    return "Order";
  case EventType::Click:
    return "Click";
  }
  return "Unknown";
}

} // namespace

void appendFixed(std::string &out, std::int64_t scaled, int decimals) {
  std::uint64_t magnitude =
      scaled < 0 ? 0 - static_cast<std::uint64_t>(scaled) : static_cast<std::uint64_t>(scaled);
  std::uint64_t unit = 1;
  for (int i = 0; i < decimals; ++i) {
    unit *= 10;
  }
  if (scaled < 0) {
    out += '-';
  }
  appendInteger(out, magnitude / unit);
  out += '.';
  const std::uint64_t fraction = magnitude % unit;
  std::string digits;
  appendInteger(digits, fraction);
  out.append(static_cast<std::size_t>(decimals) - digits.size(), '0');
  out += digits;
}

void appendJsonString(std::string &out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

void EventWriter::write(const Event &event) {
  line_.clear();
  line_ += "{\"@type\":";
  appendJsonString(line_, typeName(event.type));
  switch (event.type) {
  case EventType::Payment:
    stringField("card", cardKey(event.card));
    field("amount");
    appendFixed(line_, event.cents, 2);
    stringField("country", countries()[event.country].code);
    if (event.merchant_form == MerchantForm::Present) {
      stringField("merchant", kMerchants[event.merchant]);
    } else if (event.merchant_form == MerchantForm::Null) {
      field("merchant");
      line_ += "null";
    }
    stringField("order_id", orderKey(event.order));
    break;
  case EventType::Login:
    stringField("user", userKey(event.user));
    stringField("country", countries()[event.country].code);
    field("lat");
    appendFixed(line_, event.lat_e4, 4);
    field("lon");
    appendFixed(line_, event.lon_e4, 4);
    field("new_device");
    line_ += event.new_device ? "true" : "false";
    break;
  case EventType::PasswordReset:
    stringField("user", userKey(event.user));
    break;
  case EventType::Withdrawal:
    stringField("user", userKey(event.user));
    field("amount");
    appendFixed(line_, event.cents, 2);
    break;
  case EventType::Order:
    stringField("order_id", orderKey(event.order));
    stringField("user", userKey(event.user));
    field("total");
    appendFixed(line_, event.cents, 2);
    break;
  case EventType::Click:
    stringField("user", userKey(event.user));
    stringField("page", kPages[event.page % kPageCount]);
    break;
  }
  timeField("ts", event.ts);
  line_ += "}\n";
  out_ << line_;
}

void EventWriter::field(std::string_view name) {
  line_ += ',';
  appendJsonString(line_, name);
  line_ += ':';
}

void EventWriter::stringField(std::string_view name, std::string_view value) {
  field(name);
  appendJsonString(line_, value);
}

void EventWriter::timeField(std::string_view name, std::int64_t ms) {
  field(name);
  if (time_format_ == TimeFormat::Rfc3339) {
    line_ += '"';
    line_ += formatRfc3339(ms);
    line_ += '"';
  } else {
    appendInteger(line_, ms);
  }
}

void writeLabel(std::ostream &out, std::string_view scenario, std::string_view key,
                std::string_view stream, const std::vector<std::size_t> &lines, std::int64_t start,
                std::int64_t end, std::string_view label_class) {
  std::string line = "{\"scenario\":";
  appendJsonString(line, scenario);
  line += ",\"key\":";
  appendJsonString(line, key);
  line += ",\"stream\":";
  appendJsonString(line, stream);
  line += ",\"lines\":[";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      line += ',';
    }
    appendInteger(line, static_cast<std::uint64_t>(lines[i]));
  }
  line += "],\"start\":";
  appendInteger(line, start);
  line += ",\"end\":";
  appendInteger(line, end);
  // What `cep backtest --labels` reads (docs/backtest.md): the fraud's time (its first event)
  // and its class (the scenario); key is above.
  line += ",\"time\":";
  appendInteger(line, start);
  line += ",\"class\":";
  appendJsonString(line, label_class);
  line += "}\n";
  out << line;
}

} // namespace cep::tools
