#include "service/schema_merge.hpp"

#include <algorithm>

namespace cep::service {

std::string describeType(const runtime::EventSchema &type) {
  std::string out = type.name + "(";
  for (std::size_t i = 0; i < type.fields.size(); ++i) {
    const runtime::FieldSchema &field = type.fields[i];
    if (i > 0) {
      out += ", ";
    }
    out += field.name + ": " + runtime::fieldKindName(field.kind);
    if (field.nullable) {
      out += '?';
    }
    if (static_cast<std::int32_t>(i) == type.time_field) {
      out += " @time";
    }
  }
  return out + ")";
}

namespace {

bool sameType(const runtime::EventSchema &a, const runtime::EventSchema &b) {
  if (a.name != b.name || a.time_field != b.time_field || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    const runtime::FieldSchema &x = a.fields[i];
    const runtime::FieldSchema &y = b.fields[i];
    if (x.name != y.name || x.kind != y.kind || x.nullable != y.nullable) {
      return false;
    }
  }
  return true;
}

} // namespace

bool mergeSchema(const runtime::Schema &server, const runtime::Schema &artifact,
                 runtime::Schema &merged, std::vector<std::string> &reasons) {
  std::size_t before = reasons.size();
  std::size_t common = std::min(server.types.size(), artifact.types.size());
  for (std::size_t i = 0; i < common; ++i) {
    const runtime::EventSchema &have = server.types[i];
    const runtime::EventSchema &want = artifact.types[i];
    if (have.name != want.name) {
      std::string reason = "event type " + std::to_string(i + 1) + " of the artifact is `" +
                           want.name + "`, the server's is `" + have.name + "`";
      if (server.typeIndex(want.name) >= 0) {
        reason += " (`" + want.name + "` is the server's type " +
                  std::to_string(server.typeIndex(want.name) + 1) + ")";
      }
      reasons.push_back(reason + ": event types must be declared in the same order by every "
                                 "deployed artifact (import them from one module)");
    } else if (!sameType(have, want)) {
      reasons.push_back("event type `" + want.name + "` differs: the server has " +
                        describeType(have) + ", the artifact declares " + describeType(want) +
                        "; a loaded event type cannot change");
    }
  }
  // A type the artifact adds must not be one the server knows at another position (reported
  // above as an order mismatch when it collides).
  for (std::size_t i = common; i < artifact.types.size(); ++i) {
    const runtime::EventSchema &want = artifact.types[i];
    if (std::int32_t at = server.typeIndex(want.name); at >= 0) {
      reasons.push_back("event type `" + want.name + "` is the artifact's type " +
                        std::to_string(i + 1) + " and the server's type " + std::to_string(at + 1) +
                        ": event types must be declared in the same order by every deployed "
                        "artifact (import them from one module)");
    }
  }
  if (reasons.size() != before) {
    return false;
  }
  merged = artifact.types.size() > server.types.size() ? artifact : server;
  return true;
}

} // namespace cep::service
