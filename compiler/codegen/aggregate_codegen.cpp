// The native functions of aggregates (aggregate_codegen.hpp).
#include "compiler/codegen/aggregate_codegen.hpp"

#include "compiler/codegen/expr_codegen.hpp"
#include "compiler/native/image_builder.hpp"
#include "support/internal_error.hpp"

namespace cep::compiler::codegen {

namespace {

std::string symbolOf(const aggregate::AggregatePlan &plan, const std::string &what) {
  return "cep.a" + std::to_string(plan.aggregate) + "." + what;
}

void emitOrFail(llvm::Module &module, const lang::typed::Program &program,
                const lang::typed::Expr &e, FunctionKind kind, const std::string &name,
                const aggregate::AggregatePlan &plan) {
  if (!emitFunction(module, program, e, kind, name)) {
    throw InternalError("aggregate `" + plan.name + "`: cannot lower " + name + " to native code");
  }
}

} // namespace

runtime::native::AggregateImage aggregateImage(const lang::typed::Program &program,
                                               const aggregate::AggregatePlan &plan) {
  runtime::native::AggregateImage image;
  image.name = plan.name;
  image.index = plan.aggregate;
  image.operator_index = plan.operator_index;
  image.event_type = plan.event_type;
  image.field_count = plan.field_count;
  image.key_fields = plan.key_fields;
  for (const aggregate::ComputedSlot &c : plan.computed) {
    image.computed.push_back(c.kind);
  }
  image.step_name = plan.decl->step.name;
  image.spec = plan.spec;
  image.spec.keep_events = false;
  image.emit.stream = program.streams.at(static_cast<std::size_t>(plan.emit->stream)).name;
  for (std::size_t k = 0; k < plan.emit->fields.size(); ++k) {
    const lang::typed::EmitField &f = plan.emit->fields[k];
    runtime::native::OutputField out;
    out.name = f.name;
    out.kind = native::valueKindOf(f.value->type.kind);
    out.symbol = symbolOf(plan, "emit" + std::to_string(k));
    image.emit.fields.push_back(std::move(out));
  }
  if (plan.condition != nullptr) {
    image.condition_symbol = symbolOf(plan, "cond");
  }
  for (std::size_t i = 0; i < plan.computed.size(); ++i) {
    image.computed_symbols.push_back(symbolOf(plan, "row" + std::to_string(i)));
  }
  if (plan.having != nullptr) {
    image.having_symbol = symbolOf(plan, "having");
  }
  return image;
}

std::vector<runtime::native::AggregateImage>
emitAggregates(llvm::Module &module, const lang::typed::Program &program,
               const std::vector<aggregate::AggregatePlan> &plans) {
  std::vector<runtime::native::AggregateImage> images;
  for (const aggregate::AggregatePlan &plan : plans) {
    runtime::native::AggregateImage image = aggregateImage(program, plan);
    if (plan.condition != nullptr) {
      emitOrFail(module, program, *plan.condition, FunctionKind::Guard, image.condition_symbol,
                 plan);
    }
    for (std::size_t i = 0; i < plan.computed.size(); ++i) {
      emitOrFail(module, program, *plan.computed[i].expr, FunctionKind::AggregateRow,
                 image.computed_symbols[i], plan);
    }
    if (plan.having != nullptr) {
      emitOrFail(module, program, *plan.having, FunctionKind::AggregateTest, image.having_symbol,
                 plan);
    }
    for (std::size_t k = 0; k < plan.emit->fields.size(); ++k) {
      emitOrFail(module, program, *plan.emit->fields[k].value, FunctionKind::AggregateValue,
                 image.emit.fields[k].symbol, plan);
    }
    images.push_back(std::move(image));
  }
  return images;
}

} // namespace cep::compiler::codegen
