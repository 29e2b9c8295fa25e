#include "compiler/interp/record.hpp"

#include "support/internal_error.hpp"

namespace cep::compiler::interp {

using lang::TypeKind;

void writeValue(runtime::JsonWriter &w, const Value &v) {
  if (v.null) {
    w.writeNull();
    return;
  }
  switch (v.kind) {
  case TypeKind::Bool:
    w.writeBool(v.b);
    return;
  case TypeKind::Int:
  case TypeKind::Duration:
    w.writeInt(v.i);
    return;
  case TypeKind::Time:
    w.writeTime(v.i);
    return;
  case TypeKind::Float:
    w.writeFloat(v.f);
    return;
  case TypeKind::String:
    w.writeString(v.s);
    return;
  default:
    CEP_ASSERT(false, "writing a non-scalar value");
  }
}

void buildRecord(std::string &out, const RecordShape &shape, Evaluator &evaluator,
                 std::string_view key_json, const lang::typed::Emit &emit, std::int64_t start,
                 std::int64_t end, bool timeout, const BoundEvents &bound) {
  const auto &program = *shape.program;
  const auto &pattern = *shape.pattern;
  runtime::JsonWriter w(out);
  w.beginObject();
  w.key("@stream");
  w.writeString(program.streams.at(static_cast<std::size_t>(emit.stream)).name);
  w.key("@pattern");
  w.writeString(pattern.name);
  if (!shape.version.empty()) {
    w.key("@version");
    w.writeString(shape.version);
  }
  w.key("@key");
  w.writeRaw(key_json);
  w.key("@start");
  w.writeTime(start);
  w.key("@end");
  w.writeTime(end);
  if (timeout) {
    w.key("@timeout");
    w.writeBool(true);
  }
  for (const auto &field : emit.fields) {
    w.key(field.name);
    writeValue(w, evaluator.evaluate(*field.value, nullptr, &bound));
  }
  if (shape.with_events) {
    w.key("@events");
    w.beginObject();
    for (std::size_t s = 0; s < pattern.steps.size(); ++s) {
      if (pattern.steps[s].negated) {
        continue; // a negated step binds nothing and cannot be referred to
      }
      w.key(pattern.steps[s].name);
      w.beginArray();
      for (const runtime::Event *e : bound.of(static_cast<std::int32_t>(s))) {
        if (e->raw_size > 0) {
          w.writeRaw(e->rawRecord());
        } else {
          w.writeNull(); // the runtime did not keep the record (not run with --with-events)
        }
      }
      w.endArray();
    }
    w.endObject();
  }
  w.endObject();
}

} // namespace cep::compiler::interp
