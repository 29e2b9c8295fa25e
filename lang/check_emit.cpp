// `emit` and `on timeout emit`: the record's fields (steps and consts in scope, every step
// complete; in a timeout record every step reference may be null) and the program-wide output
// streams, which several patterns may share when their records have the same shape.
#include "lang/checker.hpp"

namespace cep::lang {

typed::Emit Checker::checkEmit(const ast::Emit &emit, std::size_t module,
                               const std::vector<StepInfo> &steps, bool timeout,
                               bool aggregate_decl) {
  typed::Emit out;
  out.range = emit.range;
  Scope scope;
  scope.kind = ScopeKind::Emit;
  scope.module = module;
  scope.steps = &steps;
  scope.timeout = timeout;
  scope.aggregate_decl = aggregate_decl;
  std::unordered_map<std::string, SourceRange> seen;
  bool failed = false;
  for (const auto &f : emit.fields) {
    auto [it, inserted] = seen.emplace(f.name.name, f.name.range);
    if (!inserted) {
      error(f.name.range,
            "duplicate field `" + f.name.name + "` in `emit " + emit.stream.name + "`")
          .note("first declared here", it->second);
      failed = true;
    }
    typed::ExprPtr x = checkExpr(*f.value, scope);
    requireValue(x, *f.value, true);
    requireSize(x, *f.value, "the value of field `" + f.name.name + "`");
    if (!x->type.isError() && x->type.kind == TypeKind::Null) {
      error(f.value->range,
            "the type of field `" + f.name.name + "` is unknown: its value is " + "always `null`");
      x = errorNode(f.value->range);
    }
    failed = failed || x->type.isError();
    out.fields.push_back({f.name.name, std::move(x)});
  }
  if (!failed) {
    registerStream(emit, out);
  }
  return out;
}

void Checker::registerStream(const ast::Emit &emit, typed::Emit &out) {
  const std::string &name = emit.stream.name;
  auto it = stream_index_.find(name);
  if (it == stream_index_.end()) {
    typed::Stream s;
    s.name = name;
    StreamInfo info;
    info.range = emit.stream.range;
    for (std::size_t i = 0; i < out.fields.size(); ++i) {
      s.field_names.push_back(out.fields[i].name);
      s.field_types.push_back(out.fields[i].value->type);
      info.field_ranges.push_back(emit.fields[i].name.range);
    }
    out.stream = static_cast<std::int32_t>(program_.streams.size());
    stream_index_.emplace(name, out.stream);
    program_.streams.push_back(std::move(s));
    stream_info_.push_back(std::move(info));
    return;
  }
  auto index = static_cast<std::size_t>(it->second);
  typed::Stream &s = program_.streams[index];
  const StreamInfo &info = stream_info_[index];
  std::string problem;
  SourceRange at = emit.stream.range;
  if (s.field_names.size() != out.fields.size()) {
    auto fields = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " field" : " fields"); };
    problem = "this one has " + fields(out.fields.size()) + " and the other " +
              fields(s.field_names.size());
  } else {
    for (std::size_t i = 0; i < out.fields.size() && problem.empty(); ++i) {
      const Type &here = out.fields[i].value->type;
      const Type &there = s.field_types[i];
      if (out.fields[i].name != s.field_names[i]) {
        problem = "field " + std::to_string(i + 1) + " is `" + out.fields[i].name + "` here but `" +
                  s.field_names[i] + "` there";
        at = emit.fields[i].name.range;
      } else if (here.kind != there.kind) {
        problem = "field `" + out.fields[i].name + "` is `" + typeText(here.asNullable(false)) +
                  "` here but `" + typeText(there.asNullable(false)) + "` there";
        at = emit.fields[i].value->range;
      }
    }
  }
  if (!problem.empty()) {
    error(at, "every `emit " + name + "` must have the same fields, in the same order, with " +
                  "the same types: " + problem)
        .note("the other `emit " + name + "` is here", info.range);
    return;
  }
  // Same shape: a field is nullable in the stream when any emit can make it null.
  for (std::size_t i = 0; i < out.fields.size(); ++i) {
    if (out.fields[i].value->type.nullable) {
      s.field_types[i].nullable = true;
    }
  }
  out.stream = it->second;
}

} // namespace cep::lang
