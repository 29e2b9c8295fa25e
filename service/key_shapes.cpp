// One key per event type across the served operators (key_shapes.hpp).
#include "service/key_shapes.hpp"

#include <map>

namespace cep::service {

namespace {

std::vector<std::string> fieldNames(const runtime::EventSchema &type,
                                    const std::vector<std::int32_t> &fields) {
  std::vector<std::string> names;
  for (std::int32_t f : fields) {
    if (f >= 0 && static_cast<std::size_t>(f) < type.fields.size()) {
      names.push_back(type.fields[static_cast<std::size_t>(f)].name);
    } else {
      names.push_back(std::to_string(f)); // not a field of the type: its index
    }
  }
  return names;
}

std::string keyText(const std::vector<std::string> &fields) {
  std::string text;
  for (const std::string &f : fields) {
    text += (text.empty() ? "" : ", ") + f;
  }
  return "(" + text + ")";
}

std::string kindOf(const OperatorKeys &op) {
  return (op.aggregate ? "aggregate " : "pattern ") + op.name;
}

} // namespace

OperatorKeys patternKeys(const std::string &name, const runtime::Schema &schema,
                         const runtime::native::PatternImage &image) {
  OperatorKeys keys{name, false, {}};
  if (!image.keyed) {
    return keys;
  }
  for (std::size_t t = 0; t < image.key_fields.size() && t < schema.types.size(); ++t) {
    if (!image.key_fields[t].empty()) {
      keys.types.emplace_back(schema.types[t].name,
                              fieldNames(schema.types[t], image.key_fields[t]));
    }
  }
  return keys;
}

OperatorKeys aggregateKeys(const std::string &name, const runtime::Schema &schema,
                           const runtime::native::AggregateImage &image) {
  OperatorKeys keys{name, true, {}};
  if (!image.key_fields.empty() && image.event_type < schema.types.size()) {
    const runtime::EventSchema &type = schema.types[image.event_type];
    keys.types.emplace_back(type.name, fieldNames(type, image.key_fields));
  }
  return keys;
}

std::vector<std::string> keyConflicts(const std::vector<OperatorKeys> &operators) {
  struct First {
    const OperatorKeys *op;
    const std::vector<std::string> *fields;
  };
  std::map<std::string, First> first; // event type -> the first operator keying it
  std::vector<std::string> lines;
  for (const OperatorKeys &op : operators) {
    for (const auto &[type, fields] : op.types) {
      auto [at, inserted] = first.try_emplace(type, First{&op, &fields});
      if (inserted || *at->second.fields == fields) {
        continue;
      }
      lines.push_back(kindOf(*at->second.op) + " keys " + type + " by " +
                      keyText(*at->second.fields) + " and " + kindOf(op) + " keys it by " +
                      keyText(fields));
    }
  }
  return lines;
}

} // namespace cep::service
