#include "compiler/aggregate/plan.hpp"

#include "lang/typed_printer.hpp"
#include "support/internal_error.hpp"

#include <sstream>
#include <stdexcept>

namespace cep::compiler::aggregate {

using lang::TypeKind;
using lang::typed::Op;
namespace rt = runtime::aggregate;

namespace {

runtime::FieldKind kindOf(TypeKind k) {
  switch (k) {
  case TypeKind::Bool:
    return runtime::FieldKind::Bool;
  case TypeKind::Int:
    return runtime::FieldKind::Int;
  case TypeKind::Float:
    return runtime::FieldKind::Float;
  case TypeKind::String:
    return runtime::FieldKind::String;
  case TypeKind::Time:
    return runtime::FieldKind::Time;
  case TypeKind::Duration:
    return runtime::FieldKind::Duration;
  default:
    CEP_ASSERT(false, "an aggregate argument that is not a scalar");
  }
  return runtime::FieldKind::Int;
}

rt::WindowKind windowOf(lang::typed::WindowKind k) {
  switch (k) {
  case lang::typed::WindowKind::Tumbling:
    return rt::WindowKind::Tumbling;
  case lang::typed::WindowKind::Hopping:
    return rt::WindowKind::Hopping;
  case lang::typed::WindowKind::Cumulate:
    return rt::WindowKind::Cumulate;
  case lang::typed::WindowKind::Session:
    return rt::WindowKind::Session;
  case lang::typed::WindowKind::Rolling:
    return rt::WindowKind::Rolling;
  case lang::typed::WindowKind::None:
    return rt::WindowKind::None;
  }
  return rt::WindowKind::None;
}

rt::AggFn fnOf(Op op) {
  switch (op) {
  case Op::Count:
    return rt::AggFn::Count;
  case Op::CountOf:
    return rt::AggFn::CountField;
  case Op::Sum:
    return rt::AggFn::Sum;
  case Op::Avg:
    return rt::AggFn::Avg;
  case Op::Min:
    return rt::AggFn::Min;
  case Op::Max:
    return rt::AggFn::Max;
  case Op::First:
    return rt::AggFn::First;
  case Op::Last:
    return rt::AggFn::Last;
  case Op::CountDistinct:
    return rt::AggFn::CountDistinct;
  default:
    CEP_ASSERT(false, "an aggregate call of a non-aggregate operator");
  }
  return rt::AggFn::Count;
}

lang::ExprTextOptions textOptions(const lang::typed::Aggregate &a) {
  lang::ExprTextOptions o;
  o.candidate_event = a.step.event_type;
  o.mark_candidate = true;
  o.show_casts = true;
  return o;
}

} // namespace

AggregatePlan planAggregate(const lang::typed::Program &program, std::int32_t index) {
  CEP_ASSERT(index >= 0 && static_cast<std::size_t>(index) < program.aggregates.size(),
             "no aggregate " + std::to_string(index));
  const lang::typed::Aggregate &a = program.aggregates[static_cast<std::size_t>(index)];
  CEP_ASSERT(a.step.event_type >= 0, "aggregate `" + a.name + "` without an event type");
  const lang::typed::EventType &type =
      program.event_types[static_cast<std::size_t>(a.step.event_type)];
  AggregatePlan plan;
  plan.name = a.name;
  plan.aggregate = index;
  plan.decl = &a;
  plan.event_type = static_cast<std::uint32_t>(a.step.event_type);
  plan.field_count = static_cast<std::int32_t>(type.fields.size());
  if (!a.key_fields.empty()) {
    plan.key_fields = a.key_index.at(plan.event_type);
  }
  plan.condition = a.step.condition.get();
  plan.having = a.having.get();
  plan.emit = &a.emit;

  rt::AggregateSpec &spec = plan.spec;
  spec.name = a.name;
  spec.window = windowOf(a.window.kind);
  spec.size_ms = a.window.size_ms;
  spec.slide_ms = a.window.slide_ms;
  spec.lateness_ms = a.lateness_ms.value_or(0);
  spec.ttl_ms = a.ttl_ms.value_or(0);
  lang::ExprTextOptions options = textOptions(a);
  for (const lang::typed::AggregateCall &c : a.calls) {
    rt::AccumulatorSpec acc;
    acc.fn = fnOf(c.op);
    if (c.op == Op::First || c.op == Op::Last) {
      acc.field = c.field;
      acc.field_name = type.fields.at(static_cast<std::size_t>(c.field)).name;
      acc.kind = kindOf(type.fields[static_cast<std::size_t>(c.field)].type.kind);
    } else if (c.op != Op::Count) {
      CEP_ASSERT(c.arg != nullptr, "aggregate call without its argument");
      acc.kind = kindOf(c.arg->type.kind);
      if (c.arg->op == Op::Field && c.arg->step == 0) {
        acc.field = c.arg->field; // the event's own slot
        acc.field_name = type.fields.at(static_cast<std::size_t>(c.arg->field)).name;
      } else {
        std::string text = lang::aggregateExprText(program, a, *c.arg, options);
        std::int32_t slot = -1;
        for (std::size_t i = 0; i < plan.computed.size(); ++i) {
          if (plan.computed[i].text == text && plan.computed[i].kind == acc.kind) {
            slot = plan.field_count + static_cast<std::int32_t>(i);
          }
        }
        if (slot < 0) {
          slot = plan.rowSize();
          plan.computed.push_back({c.arg.get(), acc.kind, text});
        }
        acc.field = slot;
        acc.field_name = text;
      }
    }
    spec.accumulators.push_back(std::move(acc));
  }
  if (static_cast<std::size_t>(plan.rowSize()) > runtime::kMaxFields) {
    throw std::length_error(
        "aggregate `" + a.name + "` reads " + std::to_string(plan.computed.size()) +
        " computed arguments besides the " + std::to_string(plan.field_count) + " fields of `" +
        type.name + "`: at most " + std::to_string(runtime::kMaxFields) +
        " in all (aggregate a field, or fewer distinct expressions)");
  }
  verifyPlan(program, plan);
  return plan;
}

std::vector<AggregatePlan> planAggregates(const lang::typed::Program &program) {
  std::vector<AggregatePlan> plans;
  for (std::size_t i = 0; i < program.aggregates.size(); ++i) {
    plans.push_back(planAggregate(program, static_cast<std::int32_t>(i)));
  }
  return plans;
}

void verifyPlan(const lang::typed::Program &program, const AggregatePlan &plan) {
  auto fail = [&](const std::string &why) {
    throw InternalError("aggregate plan `" + plan.name + "` is inconsistent: " + why);
  };
  if (plan.decl == nullptr || plan.emit == nullptr) {
    fail("no declaration or emit");
  }
  if (plan.event_type >= program.event_types.size() ||
      static_cast<std::size_t>(plan.field_count) !=
          program.event_types[plan.event_type].fields.size()) {
    fail("the step's event type and its field count disagree");
  }
  if (static_cast<std::size_t>(plan.rowSize()) > runtime::kMaxFields) {
    fail("a row of " + std::to_string(plan.rowSize()) + " slots");
  }
  if (plan.key_fields.size() != plan.decl->key_fields.size()) {
    fail("key fields");
  }
  for (std::int32_t f : plan.key_fields) {
    if (f < 0 || f >= plan.field_count) {
      fail("key field " + std::to_string(f) + " out of range");
    }
  }
  if (plan.spec.accumulators.size() != plan.decl->calls.size()) {
    fail("accumulators are not one per call");
  }
  for (std::size_t i = 0; i < plan.spec.accumulators.size(); ++i) {
    const rt::AccumulatorSpec &acc = plan.spec.accumulators[i];
    bool needs_field = acc.fn != rt::AggFn::Count;
    if (needs_field != (acc.field >= 0) || acc.field >= plan.rowSize()) {
      fail("accumulator #" + std::to_string(i) + " reads slot " + std::to_string(acc.field));
    }
    if (acc.field >= plan.field_count) {
      const ComputedSlot &c = plan.computed[static_cast<std::size_t>(acc.field - plan.field_count)];
      if (c.kind != acc.kind || c.expr == nullptr) {
        fail("accumulator #" + std::to_string(i) + " and its computed slot disagree");
      }
    } else if (acc.field >= 0 && kindOf(program.event_types[plan.event_type]
                                            .fields[static_cast<std::size_t>(acc.field)]
                                            .type.kind) != acc.kind) {
      fail("accumulator #" + std::to_string(i) + " and its field disagree on the type");
    }
    if (needs_field && rt::resultKind(acc) != kindOf(plan.decl->calls[i].type.kind)) {
      fail("accumulator #" + std::to_string(i) + " and its call disagree on the result type");
    }
  }
  try {
    rt::validateSpec(plan.spec);
  } catch (const std::invalid_argument &e) {
    fail(e.what());
  }
}

std::string printPlan(const lang::typed::Program &program, const AggregatePlan &plan) {
  const lang::typed::Aggregate &a = *plan.decl;
  const lang::typed::EventType &type = program.event_types[plan.event_type];
  lang::ExprTextOptions options = textOptions(a);
  lang::ExprTextOptions calls = options;
  calls.show_calls = true;
  std::ostringstream out;
  const rt::AggregateSpec &s = plan.spec;
  out << "aggregate " << plan.name << '\n';
  out << "  window " << rt::windowKindName(s.window);
  if (s.size_ms > 0) {
    out << (s.window == rt::WindowKind::Session ? " gap " : " size ")
        << lang::durationText(s.size_ms);
  }
  if (s.slide_ms > 0) {
    out << (s.window == rt::WindowKind::Hopping ? " every " : " step ")
        << lang::durationText(s.slide_ms);
  }
  if (s.lateness_ms > 0) {
    out << " lateness " << lang::durationText(s.lateness_ms);
  }
  if (s.ttl_ms > 0) {
    out << " ttl " << lang::durationText(s.ttl_ms);
  }
  out << '\n';
  out << "  step " << a.step.name << ": " << type.name << " (type " << plan.event_type << ", "
      << plan.field_count << " fields)\n";
  out << "  condition "
      << (plan.condition ? lang::aggregateExprText(program, a, *plan.condition, options)
                         : std::string("true"))
      << '\n';
  out << "  key";
  if (plan.key_fields.empty()) {
    out << " none (one key)";
  }
  for (std::int32_t f : plan.key_fields) {
    out << ' ' << type.fields[static_cast<std::size_t>(f)].name << "@" << f;
  }
  out << '\n';
  out << "  row " << plan.rowSize() << " slots: fields 0.." << plan.field_count - 1 << '\n';
  for (std::size_t i = 0; i < plan.computed.size(); ++i) {
    out << "    slot " << plan.field_count + static_cast<std::int32_t>(i) << " = "
        << plan.computed[i].text << ": " << runtime::fieldKindName(plan.computed[i].kind) << '\n';
  }
  out << "  accumulators\n";
  for (std::size_t i = 0; i < s.accumulators.size(); ++i) {
    const rt::AccumulatorSpec &acc = s.accumulators[i];
    out << "    #" << i << ' ' << rt::aggFnName(acc.fn);
    if (acc.field >= 0) {
      out << " slot " << acc.field << " (" << acc.field_name << ", "
          << runtime::fieldKindName(acc.kind) << ")";
    }
    out << " -> " << runtime::fieldKindName(rt::resultKind(acc)) << "   = "
        << lang::aggregateCallText(program, a, a.calls[i], options) << '\n';
  }
  out << "  having "
      << (plan.having ? lang::aggregateExprText(program, a, *plan.having, calls)
                      : std::string("true"))
      << '\n';
  out << "  emit " << program.streams.at(static_cast<std::size_t>(plan.emit->stream)).name << '\n';
  for (const auto &f : plan.emit->fields) {
    out << "    " << f.name << " = " << lang::aggregateExprText(program, a, *f.value, calls)
        << '\n';
  }
  return out.str();
}

} // namespace cep::compiler::aggregate
