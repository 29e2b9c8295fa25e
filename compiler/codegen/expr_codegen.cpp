#include "compiler/codegen/expr_codegen.hpp"

#include "runtime/event.hpp"
#include "runtime/native/image.hpp"
#include "runtime/native/member_set.hpp"
#include "stdlib/functions.hpp"
#include "stdlib/native.hpp"
#include "support/fnv1a.hpp"
#include "support/internal_error.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>
#include <limits>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <optional>
#include <set>

namespace cep::compiler::codegen {

using lang::TypeKind;
using lang::typed::Expr;
using lang::typed::Op;
using stdlib::FunctionId;

namespace {

// A value during code generation: `v` is i1 (Bool), i64 (Int, Time, Duration), double (Float)
// or ptr (String, with its byte length in `n`); `null` is the i1 "is null" flag. Null-kind
// values (the literal `null`) have only the flag.
struct CgValue {
  TypeKind kind = TypeKind::Null;
  llvm::Value *null = nullptr;
  llvm::Value *v = nullptr;
  llvm::Value *n = nullptr;
};

// Thrown inside the generator only (never across LLVM frames: LLVM does not call back into
// it) when an expression cannot be lowered yet; the function is then dropped.
struct Unsupported {
  std::string what;
};

class Emitter {
public:
  Emitter(llvm::Module &module, const lang::typed::Program &program)
      : m_(module), ctx_(module.getContext()), b_(ctx_), program_(program) {
    i1_ = llvm::Type::getInt1Ty(ctx_);
    i8_ = llvm::Type::getInt8Ty(ctx_);
    i32_ = llvm::Type::getInt32Ty(ctx_);
    i64_ = llvm::Type::getInt64Ty(ctx_);
    f64_ = llvm::Type::getDoubleTy(ctx_);
    ptr_ = llvm::PointerType::getUnqual(ctx_);
  }

  llvm::Function *emit(const Expr &e, FunctionKind kind, const std::string &name,
                       bool internal = false) {
    bool test = kind == FunctionKind::Guard || kind == FunctionKind::AggregateTest;
    llvm::FunctionType *type =
        test ? llvm::FunctionType::get(i8_, {ptr_, ptr_}, false)
             : llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr_, ptr_, ptr_}, false);
    fn_ = llvm::Function::Create(
        type, internal ? llvm::Function::InternalLinkage : llvm::Function::ExternalLinkage, name,
        m_);
    fn_->addFnAttr(llvm::Attribute::NoUnwind);
    candidate_ = fn_->getArg(0);
    candidate_->setName("candidate");
    rtctx_ = fn_->getArg(1);
    rtctx_->setName("ctx");
    candidate_may_be_null_ = kind == FunctionKind::Value; // emit values have no candidate
    if (kind == FunctionKind::AggregateRow) {
      // Field(step 0) is the event being counted: the candidate.
      element_step_ = 0;
      element_ = candidate_;
    } else if (kind == FunctionKind::AggregateTest || kind == FunctionKind::AggregateValue) {
      // The first argument is the accumulator values (CepValue[]): no event is in scope.
      values_ = candidate_;
      values_->setName("values");
    }
    entry_ = llvm::BasicBlock::Create(ctx_, "entry", fn_);
    llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx_, "body", fn_);
    b_.SetInsertPoint(body);
    try {
      CgValue v = expr(e);
      if (test) {
        llvm::Value *truth = v.kind == TypeKind::Bool ? b_.CreateAnd(b_.CreateNot(v.null), v.v)
                                                      : llvm::ConstantInt::getFalse(ctx_);
        b_.CreateRet(b_.CreateZExt(truth, i8_));
      } else {
        storeOut(fn_->getArg(2), v, e.type.kind);
        b_.CreateRetVoid();
      }
    } catch (const Unsupported &) {
      fn_->eraseFromParent();
      return nullptr;
    }
    llvm::IRBuilder<> entry(entry_);
    entry.CreateBr(body);
    std::string problems;
    llvm::raw_string_ostream os(problems);
    bool broken = llvm::verifyFunction(*fn_, &os);
    CEP_ASSERT(!broken, "generated function " + name + " is invalid: " + os.str());
    return fn_;
  }

private:
  // --- helpers ---------------------------------------------------------------------------------

  llvm::Type *typeOf(TypeKind k) {
    switch (k) {
    case TypeKind::Bool:
      return i1_;
    case TypeKind::Float:
      return f64_;
    case TypeKind::String:
      return ptr_;
    case TypeKind::Int:
    case TypeKind::Time:
    case TypeKind::Duration:
      return i64_;
    case TypeKind::Null:
      return i1_;
    default:
      throw Unsupported{"a value of a non-scalar kind"};
    }
  }

  llvm::Constant *zeroOf(TypeKind k) { return llvm::Constant::getNullValue(typeOf(k)); }

  CgValue constNull(TypeKind k) {
    CgValue r;
    r.kind = k;
    r.null = b_.getTrue();
    r.v = zeroOf(k);
    r.n = k == TypeKind::String ? b_.getInt64(0) : nullptr;
    return r;
  }

  CgValue nonNull(TypeKind k, llvm::Value *v, llvm::Value *n = nullptr) {
    CgValue r;
    r.kind = k;
    r.null = b_.getFalse();
    r.v = v;
    r.n = n;
    return r;
  }

  // `x` as a value of kind `k` (the literal null fits every kind; Int, Time and Duration share
  // their representation).
  CgValue coerce(const CgValue &x, TypeKind k) {
    if (x.kind == k || k == TypeKind::Null) {
      return x;
    }
    if (x.kind == TypeKind::Null) {
      CgValue r = constNull(k);
      r.null = x.null;
      return r;
    }
    if (usesInt(x.kind) && usesInt(k)) {
      CgValue r = x;
      r.kind = k;
      return r;
    }
    throw Unsupported{"mixed kinds in a merge"};
  }

  llvm::AllocaInst *slot(llvm::Type *t, const char *name) {
    llvm::IRBuilder<> entry(entry_, entry_->begin());
    return entry.CreateAlloca(t, nullptr, name);
  }

  llvm::BasicBlock *block(const char *name) { return llvm::BasicBlock::Create(ctx_, name, fn_); }

  // The incoming values of a merge, each coerced to `k` in its own block.
  struct Incoming {
    llvm::BasicBlock *from;
    CgValue value;
  };
  CgValue merge(TypeKind k, const std::vector<Incoming> &in) {
    CgValue r;
    r.kind = k;
    llvm::PHINode *null = b_.CreatePHI(i1_, static_cast<unsigned>(in.size()), "null");
    llvm::PHINode *v = b_.CreatePHI(typeOf(k), static_cast<unsigned>(in.size()), "v");
    llvm::PHINode *n =
        k == TypeKind::String ? b_.CreatePHI(i64_, static_cast<unsigned>(in.size()), "n") : nullptr;
    for (const auto &i : in) {
      null->addIncoming(i.value.null, i.from);
      v->addIncoming(i.value.v, i.from);
      if (n) {
        n->addIncoming(i.value.n, i.from);
      }
    }
    r.null = null;
    r.v = v;
    r.n = n;
    return r;
  }

  // Null of kind `k` when `is_null`, otherwise compute(); compute() runs in a block of its own.
  CgValue unlessNull(llvm::Value *is_null, TypeKind k, const std::function<CgValue()> &compute) {
    if (auto *c = llvm::dyn_cast<llvm::ConstantInt>(is_null)) {
      return c->isOne() ? constNull(k) : coerce(compute(), k);
    }
    llvm::BasicBlock *from = b_.GetInsertBlock();
    llvm::BasicBlock *then = block("notnull");
    llvm::BasicBlock *done = block("merge");
    b_.CreateCondBr(is_null, done, then);
    b_.SetInsertPoint(then);
    CgValue v = coerce(compute(), k);
    llvm::BasicBlock *then_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return merge(k, {{from, constNull(k)}, {then_end, v}});
  }

  llvm::FunctionCallee fnDecl(const char *name, llvm::Type *ret, std::vector<llvm::Type *> args) {
    return m_.getOrInsertFunction(name, llvm::FunctionType::get(ret, args, false));
  }

  llvm::Value *call(const char *name, llvm::Type *ret, std::vector<llvm::Type *> types,
                    std::vector<llvm::Value *> args) {
    return b_.CreateCall(fnDecl(name, ret, std::move(types)), args);
  }

  llvm::Value *boundCount(std::int32_t step) {
    return call("cep_rt_bound_count", i64_, {ptr_, i32_}, {rtctx_, b_.getInt32(step)});
  }
  llvm::Value *boundAt(std::int32_t step, llvm::Value *index) {
    return call("cep_rt_bound_at", ptr_, {ptr_, i32_, i64_}, {rtctx_, b_.getInt32(step), index});
  }

  llvm::Value *byteGep(llvm::Value *base, std::uint64_t offset) {
    return b_.CreateInBoundsGEP(i8_, base, b_.getInt64(offset));
  }

  // Field `field` (kind `k`) of the event at `ev` (never null here).
  CgValue loadField(llvm::Value *ev, std::int32_t field, TypeKind k) {
    if (field < 0 || field >= 64) {
      throw Unsupported{"field index"};
    }
    llvm::Value *nulls = b_.CreateLoad(i64_, byteGep(ev, offsetof(runtime::Event, nulls)), "nulls");
    llvm::Value *bit = b_.CreateAnd(b_.CreateLShr(nulls, b_.getInt64(field)), b_.getInt64(1));
    llvm::Value *is_null = b_.CreateICmpNE(bit, b_.getInt64(0), "isnull");
    llvm::Value *slot_ptr =
        byteGep(ev, sizeof(runtime::Event) + static_cast<std::uint64_t>(field) * 8);
    switch (k) {
    case TypeKind::Bool: {
      llvm::Value *byte = b_.CreateLoad(i8_, slot_ptr);
      CgValue r = nonNull(k, b_.CreateICmpNE(byte, b_.getInt8(0)));
      r.null = is_null;
      return r;
    }
    case TypeKind::Float: {
      CgValue r = nonNull(k, b_.CreateLoad(f64_, slot_ptr));
      r.null = is_null;
      return r;
    }
    case TypeKind::Int:
    case TypeKind::Time:
    case TypeKind::Duration: {
      CgValue r = nonNull(k, b_.CreateLoad(i64_, slot_ptr));
      r.null = is_null;
      return r;
    }
    case TypeKind::String:
      // The slot of a null string is not a valid pointer: load it only when set.
      return unlessNull(is_null, k, [&] {
        llvm::Value *ref = b_.CreateLoad(ptr_, slot_ptr, "sref");
        llvm::Value *size = b_.CreateZExt(
            b_.CreateLoad(i32_, byteGep(ref, offsetof(runtime::StringRef, size))), i64_);
        return nonNull(k, byteGep(ref, offsetof(runtime::StringRef, data)), size);
      });
    default:
      throw Unsupported{"field of a non-scalar kind"};
    }
  }

  // Field of an event pointer that may be null (then the field is null).
  CgValue loadFieldOrNull(llvm::Value *ev, std::int32_t field, TypeKind k) {
    return unlessNull(b_.CreateIsNull(ev), k, [&] { return loadField(ev, field, k); });
  }

  // The event bound last (or first) to `step`, then compute(ev); null when none is bound.
  CgValue withBound(std::int32_t step, bool first, TypeKind k,
                    const std::function<CgValue(llvm::Value *)> &compute) {
    llvm::Value *count = boundCount(step);
    return unlessNull(b_.CreateICmpEQ(count, b_.getInt64(0)), k, [&] {
      llvm::Value *index = first ? b_.getInt64(0) : b_.CreateSub(count, b_.getInt64(1));
      return compute(boundAt(step, index));
    });
  }

  llvm::Value *asFloat(const CgValue &x) {
    if (x.kind == TypeKind::Float) {
      return x.v;
    }
    if (usesInt(x.kind)) {
      return b_.CreateSIToFP(x.v, f64_);
    }
    throw Unsupported{"float of a non-numeric value"};
  }

  llvm::Value *strcmp3(const CgValue &a, const CgValue &b) {
    return call("cep_rt_strcmp", i32_, {ptr_, i64_, ptr_, i64_}, {a.v, a.n, b.v, b.n});
  }

  // Bytewise string equality (compareValues(a, b) == 0), inline: lengths first; against a
  // string of known length up to kInlineEqBytes, the bytes by wide loads (folded to immediates
  // when one side is a literal); otherwise cep_rt_strcmp, only when the lengths agree.
  static constexpr std::uint64_t kInlineEqBytes = 16;
  llvm::Value *stringEq(const CgValue &a, const CgValue &b) {
    auto *ka = llvm::dyn_cast<llvm::ConstantInt>(a.n);
    auto *kb = llvm::dyn_cast<llvm::ConstantInt>(b.n);
    std::optional<std::uint64_t> known;
    if (ka != nullptr) {
      known = ka->getZExtValue();
    } else if (kb != nullptr) {
      known = kb->getZExtValue();
    }
    if (ka != nullptr && kb != nullptr && ka->getZExtValue() != kb->getZExtValue()) {
      return b_.getFalse();
    }
    llvm::Value *same_length = b_.CreateICmpEQ(a.n, b.n, "samelen");
    if (known && *known == 0) {
      return same_length;
    }
    llvm::BasicBlock *from = b_.GetInsertBlock();
    llvm::BasicBlock *bytes = block("streq.bytes");
    llvm::BasicBlock *done = block("streq.done");
    b_.CreateCondBr(same_length, bytes, done);
    b_.SetInsertPoint(bytes);
    llvm::Value *eq = nullptr;
    if (known && *known <= kInlineEqBytes) {
      // Both sides hold exactly *known bytes here: loads of 8, 4, 2 and 1 bytes cover them.
      std::uint64_t offset = 0;
      for (unsigned width : {8u, 4u, 2u, 1u}) {
        llvm::Type *t = b_.getIntNTy(width * 8);
        while (*known - offset >= width) {
          llvm::Value *x = b_.CreateAlignedLoad(t, byteGep(a.v, offset), llvm::Align(1));
          llvm::Value *y = b_.CreateAlignedLoad(t, byteGep(b.v, offset), llvm::Align(1));
          llvm::Value *part = b_.CreateICmpEQ(x, y);
          eq = eq == nullptr ? part : b_.CreateAnd(eq, part);
          offset += width;
        }
      }
    } else {
      eq = b_.CreateICmpEQ(strcmp3(a, b), b_.getInt32(0));
    }
    llvm::BasicBlock *bytes_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode *r = b_.CreatePHI(i1_, 2, "streq");
    r->addIncoming(b_.getFalse(), from);
    r->addIncoming(eq, bytes_end);
    return r;
  }

  // compareValues(a, b) (both non-null) reduced to the test `op` (Eq .. Ge). Floats: IEEE,
  // NaN unordered (only `!=` holds).
  llvm::Value *compareTest(Op op, const CgValue &a, const CgValue &b) {
    if (a.kind == TypeKind::Float || b.kind == TypeKind::Float) {
      llvm::Value *x = asFloat(a), *y = asFloat(b);
      switch (op) {
      case Op::Eq:
        return b_.CreateFCmpOEQ(x, y);
      case Op::Ne:
        return b_.CreateFCmpUNE(x, y);
      case Op::Lt:
        return b_.CreateFCmpOLT(x, y);
      case Op::Le:
        return b_.CreateFCmpOLE(x, y);
      case Op::Gt:
        return b_.CreateFCmpOGT(x, y);
      default:
        return b_.CreateFCmpOGE(x, y);
      }
    }
    llvm::Value *x = nullptr, *y = nullptr;
    bool is_signed = true;
    if (usesInt(a.kind) && usesInt(b.kind)) {
      x = a.v;
      y = b.v;
    } else if (a.kind == TypeKind::String && b.kind == TypeKind::String) {
      if (op == Op::Eq || op == Op::Ne) {
        llvm::Value *eq = stringEq(a, b);
        return op == Op::Eq ? eq : b_.CreateNot(eq);
      }
      x = strcmp3(a, b);
      y = b_.getInt32(0);
    } else if (a.kind == TypeKind::Bool && b.kind == TypeKind::Bool) {
      x = a.v;
      y = b.v;
      is_signed = false; // false < true
    } else {
      throw Unsupported{"comparing values of different kinds"};
    }
    switch (op) {
    case Op::Eq:
      return b_.CreateICmpEQ(x, y);
    case Op::Ne:
      return b_.CreateICmpNE(x, y);
    case Op::Lt:
      return is_signed ? b_.CreateICmpSLT(x, y) : b_.CreateICmpULT(x, y);
    case Op::Le:
      return is_signed ? b_.CreateICmpSLE(x, y) : b_.CreateICmpULE(x, y);
    case Op::Gt:
      return is_signed ? b_.CreateICmpSGT(x, y) : b_.CreateICmpUGT(x, y);
    default:
      return is_signed ? b_.CreateICmpSGE(x, y) : b_.CreateICmpUGE(x, y);
    }
  }

  CgValue select(llvm::Value *cond, const CgValue &a, const CgValue &b) {
    CgValue r;
    r.kind = a.kind;
    r.null = b_.CreateSelect(cond, a.null, b.null);
    r.v = b_.CreateSelect(cond, a.v, b.v);
    if (a.kind == TypeKind::String) {
      r.n = b_.CreateSelect(cond, a.n, b.n);
    }
    return r;
  }

  void storeOut(llvm::Value *out, const CgValue &v, TypeKind k) {
    CgValue x = coerce(v, k);
    b_.CreateStore(b_.CreateZExt(x.null, i8_), byteGep(out, offsetof(CepValue, null)));
    switch (k) {
    case TypeKind::Bool:
      b_.CreateStore(b_.CreateZExt(x.v, i8_), byteGep(out, offsetof(CepValue, b)));
      break;
    case TypeKind::Float:
      b_.CreateStore(x.v, byteGep(out, offsetof(CepValue, f)));
      break;
    case TypeKind::String:
      b_.CreateStore(x.v, byteGep(out, offsetof(CepValue, s)));
      b_.CreateStore(x.n, byteGep(out, offsetof(CepValue, n)));
      break;
    case TypeKind::Null:
      break;
    default:
      b_.CreateStore(x.v, byteGep(out, offsetof(CepValue, i)));
      break;
    }
  }

  // --- expressions -----------------------------------------------------------------------------

  CgValue expr(const Expr &e) {
    if (values_ != nullptr && e.call >= 0) {
      return accumulator(e);
    }
    switch (e.op) {
    case Op::Literal:
      return literal(e.value);
    case Op::Field:
      return field(e);
    case Op::First:
    case Op::Last:
      return withBound(e.step, e.op == Op::First, e.type.kind,
                       [&](llvm::Value *ev) { return loadField(ev, e.field, e.type.kind); });
    case Op::Count:
      return nonNull(TypeKind::Int, boundCount(e.step));
    case Op::CountOf:
    case Op::Sum:
    case Op::Avg:
    case Op::Min:
    case Op::Max:
      return aggregate(e);
    case Op::CountDistinct:
      CEP_ASSERT(false, "count_distinct outside an aggregate declaration (never compiled yet)");
      return nonNull(TypeKind::Int, nullptr);
    case Op::Cast: {
      CgValue x = expr(*e.args[0]);
      return unlessNull(x.null, TypeKind::Float,
                        [&] { return nonNull(TypeKind::Float, asFloat(x)); });
    }
    case Op::Neg: {
      CgValue x = expr(*e.args[0]);
      if (x.kind == TypeKind::Float) {
        return CgValue{x.kind, x.null, b_.CreateFNeg(x.v), nullptr};
      }
      if (!usesInt(x.kind)) {
        throw Unsupported{"negating a non-number"};
      }
      return CgValue{x.kind, x.null, b_.CreateSub(b_.getInt64(0), x.v), nullptr};
    }
    case Op::Not: {
      CgValue x = coerce(expr(*e.args[0]), TypeKind::Bool);
      if (x.kind != TypeKind::Bool) {
        throw Unsupported{"not of a non-bool"};
      }
      return CgValue{TypeKind::Bool, x.null, b_.CreateNot(x.v), nullptr};
    }
    case Op::And:
    case Op::Or:
      return logic(e);
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      CgValue a = expr(*e.args[0]);
      CgValue b = expr(*e.args[1]);
      if (a.kind == TypeKind::Null || b.kind == TypeKind::Null) {
        return nonNull(TypeKind::Bool, b_.getFalse());
      }
      llvm::Value *any_null = b_.CreateOr(a.null, b.null);
      CgValue r = unlessNull(any_null, TypeKind::Bool,
                             [&] { return nonNull(TypeKind::Bool, compareTest(e.op, a, b)); });
      // A comparison with null is false, not null.
      return nonNull(TypeKind::Bool, b_.CreateAnd(b_.CreateNot(r.null), r.v));
    }
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod:
      return arithmetic(e);
    case Op::IsNull:
      return nonNull(TypeKind::Bool, expr(*e.args[0]).null);
    case Op::IsNotNull:
      return nonNull(TypeKind::Bool, b_.CreateNot(expr(*e.args[0]).null));
    case Op::In:
    case Op::NotIn:
      return membership(e);
    case Op::Call:
      return callBuiltin(e);
    case Op::If:
      return ifExpr(e);
    case Op::Coalesce:
      return coalesce(e);
    }
    throw Unsupported{"unknown operation"};
  }

  // An aggregate node of an aggregate declaration's `having` or emit: the value of accumulator
  // `e.call`, read from values[e.call] (runtime/native/aggregate_image.hpp) by its result kind.
  CgValue accumulator(const Expr &e) {
    TypeKind k = e.type.kind;
    llvm::Value *at = byteGep(values_, static_cast<std::uint64_t>(e.call) * sizeof(CepValue));
    llvm::Value *null = b_.CreateICmpNE(b_.CreateLoad(i8_, byteGep(at, offsetof(CepValue, null))),
                                        b_.getInt8(0), "acc.null");
    CgValue r;
    switch (k) {
    case TypeKind::Bool:
      r = nonNull(k, b_.CreateICmpNE(b_.CreateLoad(i8_, byteGep(at, offsetof(CepValue, b))),
                                     b_.getInt8(0)));
      break;
    case TypeKind::Float:
      r = nonNull(k, b_.CreateLoad(f64_, byteGep(at, offsetof(CepValue, f))));
      break;
    case TypeKind::String:
      r = nonNull(k, b_.CreateLoad(ptr_, byteGep(at, offsetof(CepValue, s))),
                  b_.CreateLoad(i64_, byteGep(at, offsetof(CepValue, n))));
      break;
    case TypeKind::Int:
    case TypeKind::Time:
    case TypeKind::Duration:
      r = nonNull(k, b_.CreateLoad(i64_, byteGep(at, offsetof(CepValue, i))));
      break;
    default:
      throw Unsupported{"an accumulator of a non-scalar kind"};
    }
    r.null = null;
    return r;
  }

  CgValue literal(const lang::typed::Value &v) {
    if (v.is_null || v.kind == TypeKind::Null) {
      return constNull(v.kind == TypeKind::List ? TypeKind::Null : v.kind);
    }
    switch (v.kind) {
    case TypeKind::Bool:
      return nonNull(v.kind, b_.getInt1(v.b));
    case TypeKind::Float:
      return nonNull(v.kind, llvm::ConstantFP::get(f64_, v.f));
    case TypeKind::String: {
      llvm::Constant *bytes = b_.CreateGlobalString(v.s, "str", 0, &m_);
      return nonNull(v.kind, bytes, b_.getInt64(v.s.size()));
    }
    case TypeKind::Int:
    case TypeKind::Time:
    case TypeKind::Duration:
      return nonNull(v.kind, b_.getInt64(static_cast<std::uint64_t>(v.i)));
    default:
      throw Unsupported{"a non-scalar literal"};
    }
  }

  CgValue field(const Expr &e) {
    TypeKind k = e.type.kind;
    if (e.step == lang::typed::kCandidate) {
      if (candidate_may_be_null_) {
        return loadFieldOrNull(candidate_, e.field, k);
      }
      return loadField(candidate_, e.field, k);
    }
    if (e.step == element_step_) {
      return loadField(element_, e.field, k);
    }
    return withBound(e.step, false, k, [&](llvm::Value *ev) { return loadField(ev, e.field, k); });
  }

  CgValue aggregate(const Expr &e) {
    TypeKind k = e.type.kind;
    Op op = e.op;
    llvm::Value *count = boundCount(e.step);
    llvm::AllocaInst *index = slot(i64_, "index");
    llvm::AllocaInst *seen = slot(i64_, "seen");
    llvm::AllocaInst *isum = slot(i64_, "isum");
    llvm::AllocaInst *fsum = slot(f64_, "fsum");
    bool minmax = op == Op::Min || op == Op::Max;
    llvm::AllocaInst *best_null = minmax ? slot(i1_, "best.null") : nullptr;
    llvm::AllocaInst *best_v = minmax ? slot(typeOf(k), "best") : nullptr;
    llvm::AllocaInst *best_n = minmax && k == TypeKind::String ? slot(i64_, "best.n") : nullptr;
    b_.CreateStore(b_.getInt64(0), index);
    b_.CreateStore(b_.getInt64(0), seen);
    b_.CreateStore(b_.getInt64(0), isum);
    b_.CreateStore(llvm::ConstantFP::get(f64_, 0.0), fsum);
    if (minmax) {
      b_.CreateStore(b_.getTrue(), best_null);
      b_.CreateStore(zeroOf(k), best_v);
      if (best_n) {
        b_.CreateStore(b_.getInt64(0), best_n);
      }
    }
    llvm::BasicBlock *head = block("agg.head");
    llvm::BasicBlock *body = block("agg.body");
    llvm::BasicBlock *take = block("agg.take");
    llvm::BasicBlock *latch = block("agg.next");
    llvm::BasicBlock *done = block("agg.done");
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::Value *i = b_.CreateLoad(i64_, index, "i");
    b_.CreateCondBr(b_.CreateICmpSLT(i, count), body, done);

    b_.SetInsertPoint(body);
    llvm::Value *ev = boundAt(e.step, i);
    std::int32_t saved_step = element_step_;
    llvm::Value *saved_element = element_;
    element_step_ = e.step;
    element_ = ev;
    CgValue v = expr(*e.args[0]);
    element_step_ = saved_step;
    element_ = saved_element;
    b_.CreateCondBr(v.null, latch, take);

    b_.SetInsertPoint(take);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, seen), b_.getInt64(1)), seen);
    switch (op) {
    case Op::Sum:
      if (k == TypeKind::Float) {
        if (v.kind != TypeKind::Float) {
          throw Unsupported{"float sum of a non-float"};
        }
        b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(f64_, fsum), v.v), fsum);
      } else {
        if (!usesInt(v.kind)) {
          throw Unsupported{"sum of a non-number"};
        }
        b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, isum), v.v), isum);
      }
      break;
    case Op::Avg:
      b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(f64_, fsum), asFloat(v)), fsum);
      break;
    case Op::Min:
    case Op::Max: {
      CgValue x = coerce(v, k);
      CgValue best;
      best.kind = k;
      best.null = b_.CreateLoad(i1_, best_null);
      best.v = b_.CreateLoad(typeOf(k), best_v);
      best.n = best_n ? b_.CreateLoad(i64_, best_n) : nullptr;
      // compareValues(v, best) == -1 (min) or 1 (max); only evaluated once best is set.
      llvm::BasicBlock *from = b_.GetInsertBlock();
      llvm::BasicBlock *cmp = block("agg.cmp");
      llvm::BasicBlock *store = block("agg.store");
      b_.CreateCondBr(best.null, store, cmp);
      b_.SetInsertPoint(cmp);
      llvm::Value *better = compareTest(op == Op::Min ? Op::Lt : Op::Gt, x, best);
      llvm::BasicBlock *cmp_end = b_.GetInsertBlock();
      b_.CreateBr(store);
      b_.SetInsertPoint(store);
      llvm::PHINode *replace = b_.CreatePHI(i1_, 2);
      replace->addIncoming(b_.getTrue(), from);
      replace->addIncoming(better, cmp_end);
      CgValue chosen = select(replace, x, best);
      b_.CreateStore(chosen.null, best_null);
      b_.CreateStore(chosen.v, best_v);
      if (best_n) {
        b_.CreateStore(chosen.n, best_n);
      }
      break;
    }
    default:
      break;
    }
    b_.CreateBr(latch);

    b_.SetInsertPoint(latch);
    b_.CreateStore(b_.CreateAdd(i, b_.getInt64(1)), index);
    b_.CreateBr(head);

    b_.SetInsertPoint(done);
    llvm::Value *n = b_.CreateLoad(i64_, seen);
    switch (op) {
    case Op::CountOf:
      return nonNull(TypeKind::Int, n);
    case Op::Sum:
      return k == TypeKind::Float ? nonNull(k, b_.CreateLoad(f64_, fsum))
                                  : nonNull(k, b_.CreateLoad(i64_, isum));
    case Op::Avg: {
      CgValue r = nonNull(TypeKind::Float,
                          b_.CreateFDiv(b_.CreateLoad(f64_, fsum), b_.CreateSIToFP(n, f64_)));
      r.null = b_.CreateICmpEQ(n, b_.getInt64(0));
      return r;
    }
    default: {
      CgValue r;
      r.kind = k;
      r.null = b_.CreateLoad(i1_, best_null);
      r.v = b_.CreateLoad(typeOf(k), best_v);
      r.n = best_n ? b_.CreateLoad(i64_, best_n) : nullptr;
      return r;
    }
    }
  }

  // Kleene logic, the right operand evaluated only when the left does not decide.
  CgValue logic(const Expr &e) {
    bool dominant = e.op == Op::Or;
    llvm::Value *dom = b_.getInt1(dominant);
    CgValue a = coerce(expr(*e.args[0]), TypeKind::Bool);
    llvm::Value *a_decides = b_.CreateAnd(b_.CreateNot(a.null), b_.CreateICmpEQ(a.v, dom));
    llvm::BasicBlock *from = b_.GetInsertBlock();
    llvm::BasicBlock *right = block("logic.rhs");
    llvm::BasicBlock *done = block("logic.done");
    b_.CreateCondBr(a_decides, done, right);
    b_.SetInsertPoint(right);
    CgValue b = coerce(expr(*e.args[1]), TypeKind::Bool);
    llvm::Value *b_decides = b_.CreateAnd(b_.CreateNot(b.null), b_.CreateICmpEQ(b.v, dom));
    CgValue rhs;
    rhs.kind = TypeKind::Bool;
    rhs.null = b_.CreateAnd(b_.CreateNot(b_decides), b_.CreateOr(a.null, b.null));
    rhs.v = b_.CreateSelect(b_decides, dom, b_.getInt1(!dominant));
    llvm::BasicBlock *right_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    CgValue decided = nonNull(TypeKind::Bool, dom);
    return merge(TypeKind::Bool, {{from, decided}, {right_end, rhs}});
  }

  CgValue arithmetic(const Expr &e) {
    TypeKind result = e.type.kind;
    CgValue a = expr(*e.args[0]);
    CgValue b = expr(*e.args[1]);
    if (a.kind == TypeKind::Null || b.kind == TypeKind::Null) {
      return constNull(result);
    }
    return unlessNull(b_.CreateOr(a.null, b.null), result,
                      [&] { return arithmeticOf(e.op, result, a, b); });
  }

  CgValue arithmeticOf(Op op, TypeKind result, const CgValue &a, const CgValue &b) {
    switch (result) {
    case TypeKind::String: {
      if (op != Op::Add || a.kind != TypeKind::String || b.kind != TypeKind::String) {
        break;
      }
      llvm::Value *n = b_.CreateAdd(a.n, b.n);
      llvm::Value *out = call("cep_rt_alloc", ptr_, {ptr_, i64_}, {rtctx_, n});
      b_.CreateMemCpy(out, llvm::MaybeAlign(1), a.v, llvm::MaybeAlign(1), a.n);
      b_.CreateMemCpy(b_.CreateInBoundsGEP(i8_, out, a.n), llvm::MaybeAlign(1), b.v,
                      llvm::MaybeAlign(1), b.n);
      return nonNull(result, out, n);
    }
    case TypeKind::Float:
      if (op == Op::Div && a.kind == TypeKind::Duration) { // duration / duration
        llvm::Value *zero = b_.CreateICmpEQ(b.v, b_.getInt64(0));
        CgValue r =
            nonNull(result, b_.CreateFDiv(b_.CreateSIToFP(a.v, f64_), b_.CreateSIToFP(b.v, f64_)));
        r.null = zero;
        return r;
      }
      switch (op) {
      case Op::Add:
        return nonNull(result, b_.CreateFAdd(asFloat(a), asFloat(b)));
      case Op::Sub:
        return nonNull(result, b_.CreateFSub(asFloat(a), asFloat(b)));
      case Op::Mul:
        return nonNull(result, b_.CreateFMul(asFloat(a), asFloat(b)));
      case Op::Div:
        return nonNull(result, b_.CreateFDiv(asFloat(a), asFloat(b)));
      default:
        break;
      }
      break;
    case TypeKind::Duration:
      if ((op == Op::Mul || op == Op::Div) &&
          (a.kind == TypeKind::Float || b.kind == TypeKind::Float)) {
        llvm::Value *x = asFloat(a), *y = asFloat(b);
        llvm::Value *d = op == Op::Mul ? b_.CreateFMul(x, y) : b_.CreateFDiv(x, y);
        // Null unless finite and inside +-9.2e18; rounded half away from zero (llround).
        llvm::Value *abs_d = b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d);
        llvm::Value *fits = b_.CreateFCmpOLT(abs_d, llvm::ConstantFP::get(f64_, 9.2e18));
        llvm::Value *rounded = b_.CreateUnaryIntrinsic(llvm::Intrinsic::round, d);
        rounded = b_.CreateSelect(fits, rounded, llvm::ConstantFP::get(f64_, 0.0));
        CgValue r = nonNull(result, b_.CreateFPToSI(rounded, i64_));
        r.null = b_.CreateNot(fits);
        return r;
      }
      [[fallthrough]];
    case TypeKind::Int:
    case TypeKind::Time:
      if (!usesInt(a.kind) || !usesInt(b.kind)) {
        break;
      }
      switch (op) {
      case Op::Add:
        return nonNull(result, b_.CreateAdd(a.v, b.v));
      case Op::Sub:
        return nonNull(result, b_.CreateSub(a.v, b.v));
      case Op::Mul:
        return nonNull(result, b_.CreateMul(a.v, b.v));
      case Op::Div:
      case Op::Mod: {
        // x / 0 is null; INT64_MIN / -1 wraps (INT64_MIN, remainder 0): never trap.
        llvm::Value *zero = b_.CreateICmpEQ(b.v, b_.getInt64(0));
        llvm::Value *overflow =
            b_.CreateAnd(b_.CreateICmpEQ(a.v, b_.getInt64(static_cast<std::uint64_t>(
                                                  std::numeric_limits<std::int64_t>::min()))),
                         b_.CreateICmpEQ(b.v, b_.getInt64(static_cast<std::uint64_t>(-1))));
        llvm::Value *safe = b_.CreateSelect(b_.CreateOr(zero, overflow), b_.getInt64(1), b.v);
        llvm::Value *q = op == Op::Div ? b_.CreateSDiv(a.v, safe) : b_.CreateSRem(a.v, safe);
        llvm::Value *wrapped = op == Op::Div ? a.v : b_.getInt64(0);
        CgValue r = nonNull(result, b_.CreateSelect(overflow, wrapped, q));
        r.null = zero;
        return r;
      }
      default:
        break;
      }
      break;
    default:
      break;
    }
    throw Unsupported{"arithmetic on these kinds"};
  }

  CgValue membership(const Expr &e) {
    CgValue x = expr(*e.args[0]);
    if (x.kind == TypeKind::Null) {
      return nonNull(TypeKind::Bool, b_.getFalse());
    }
    CgValue r = unlessNull(x.null, TypeKind::Bool, [&] {
      llvm::Value *found = memberTableTest(e.value.list, x);
      if (found != nullptr) {
        return nonNull(TypeKind::Bool, e.op == Op::In ? found : b_.CreateNot(found));
      }
      found = b_.getFalse();
      for (const auto &item : e.value.list) {
        if (item.is_null) {
          continue;
        }
        found = b_.CreateOr(found, compareTest(Op::Eq, literal(item), x));
      }
      return nonNull(TypeKind::Bool, e.op == Op::In ? found : b_.CreateNot(found));
    });
    return nonNull(TypeKind::Bool, b_.CreateAnd(b_.CreateNot(r.null), r.v));
  }

  // `x in (...)` over a long list of Int/Time/Duration or String constants: one probe of a
  // constant hash table built here (runtime/native/member_set.hpp), so code size and compile
  // time do not grow with the list and the test is O(1). nullptr when the list is short or its
  // values are of another kind (Float, Bool, mixed): the caller compares one by one.
  llvm::Value *memberTableTest(const std::vector<lang::typed::Value> &list, const CgValue &x) {
    bool ints = usesInt(x.kind);
    if (!ints && x.kind != TypeKind::String) {
      return nullptr;
    }
    std::vector<std::int64_t> int_values;
    std::vector<std::string> string_values;
    for (const auto &item : list) {
      if (item.is_null || item.kind == TypeKind::Null) {
        continue; // never equal to a non-null x
      }
      if (ints && usesInt(item.kind)) {
        int_values.push_back(item.i);
      } else if (!ints && item.kind == TypeKind::String) {
        string_values.push_back(item.s);
      } else {
        return nullptr;
      }
    }
    if (int_values.size() + string_values.size() < runtime::native::kMemberTableMinItems) {
      return nullptr;
    }
    runtime::native::MemberTable t = ints ? runtime::native::buildIntTable(int_values)
                                          : runtime::native::buildStringTable(string_values);
    // Named by their content, so a list used by several functions is emitted once and the
    // module's bytes do not depend on the order functions are generated in.
    std::string content = t.bytes;
    auto addBytes = [&content](const void *p, std::size_t n) {
      content.append(static_cast<const char *>(p), n);
    };
    addBytes(t.ints.data(), t.ints.size() * sizeof(std::int64_t));
    addBytes(t.spans.data(), t.spans.size() * sizeof(std::uint64_t));
    std::string id = std::to_string(fnv1a64(content)) + (ints ? ".i" : ".s");
    llvm::Constant *slots = constantArray("cep.inset.slots." + id, t.slots);
    llvm::Value *mask = b_.getInt64(t.mask);
    if (ints) {
      std::vector<std::uint64_t> raw(t.ints.begin(), t.ints.end());
      llvm::Constant *values = constantArray("cep.inset.ints." + id, raw);
      llvm::Value *hit =
          call("cep_rt_in_int", i8_, {ptr_, i64_, ptr_, i64_}, {slots, mask, values, x.v});
      return b_.CreateICmpNE(hit, b_.getInt8(0));
    }
    llvm::Constant *spans = constantArray("cep.inset.spans." + id, t.spans);
    llvm::Constant *bytes = constantGlobal("cep.inset.bytes." + id,
                                           llvm::ConstantDataArray::getString(ctx_, t.bytes, true));
    llvm::Value *hit = call("cep_rt_in_str", i8_, {ptr_, i64_, ptr_, ptr_, ptr_, i64_},
                            {slots, mask, spans, bytes, x.v, x.n});
    return b_.CreateICmpNE(hit, b_.getInt8(0));
  }

  template <typename T>
  llvm::Constant *constantArray(const std::string &name, const std::vector<T> &values) {
    llvm::Constant *init = llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<T>(values));
    return constantGlobal(name, init);
  }

  // A private constant global; one already in the module with this name and this (uniqued)
  // initializer is reused.
  llvm::Constant *constantGlobal(const std::string &name, llvm::Constant *init) {
    if (llvm::GlobalVariable *g = m_.getNamedGlobal(name);
        g != nullptr && g->getInitializer() == init) {
      return g;
    }
    return new llvm::GlobalVariable(m_, init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                    init, name);
  }

  CgValue ifExpr(const Expr &e) {
    TypeKind k = e.type.kind;
    CgValue c = coerce(expr(*e.args[0]), TypeKind::Bool);
    llvm::Value *truth = b_.CreateAnd(b_.CreateNot(c.null), c.v);
    llvm::BasicBlock *then = block("if.then");
    llvm::BasicBlock *other = block("if.else");
    llvm::BasicBlock *done = block("if.done");
    b_.CreateCondBr(truth, then, other);
    b_.SetInsertPoint(then);
    CgValue x = coerce(expr(*e.args[1]), k);
    llvm::BasicBlock *then_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(other);
    CgValue y = coerce(expr(*e.args[2]), k);
    llvm::BasicBlock *other_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    if (k == TypeKind::Null) {
      return constNull(k);
    }
    return merge(k, {{then_end, x}, {other_end, y}});
  }

  CgValue coalesce(const Expr &e) {
    TypeKind k = e.type.kind;
    if (k == TypeKind::Null) {
      return constNull(k);
    }
    llvm::BasicBlock *done = block("coalesce.done");
    std::vector<Incoming> in;
    for (const auto &arg : e.args) {
      CgValue v = coerce(expr(*arg), k);
      llvm::BasicBlock *from = b_.GetInsertBlock();
      llvm::BasicBlock *next = block("coalesce.next");
      b_.CreateCondBr(v.null, next, done);
      in.push_back({from, v});
      b_.SetInsertPoint(next);
    }
    CgValue none = constNull(k);
    in.push_back({b_.GetInsertBlock(), none});
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return merge(k, in);
  }

  CgValue callBuiltin(const Expr &e) {
    TypeKind result = e.type.kind;
    std::vector<CgValue> args;
    llvm::Value *any_null = b_.getFalse();
    for (const auto &a : e.args) {
      args.push_back(expr(*a));
      if (args.back().kind == TypeKind::Null) {
        return constNull(result); // a built-in is null on a null argument
      }
      any_null = b_.CreateOr(any_null, args.back().null);
    }
    return unlessNull(any_null, result, [&] { return builtin(e, result, args); });
  }

  llvm::Value *math1(const char *name, const CgValue &x) {
    return call(name, f64_, {f64_}, {asFloat(x)});
  }
  // Small built-ins are inlined as IR with exactly the stdlib function's result (IEEE
  // operations: llvm.round is round-half-away-from-zero like std::round, llvm.floor / ceil /
  // sqrt / fabs are the C functions); the others call stdlib/native.hpp.
  llvm::Value *inline1(llvm::Intrinsic::ID id, const CgValue &x) {
    return b_.CreateUnaryIntrinsic(id, asFloat(x));
  }
  llvm::Value *boolCall(const char *name, const CgValue &s, const CgValue &t) {
    llvm::Value *r = call(name, i8_, {ptr_, i64_, ptr_, i64_}, {s.v, s.n, t.v, t.n});
    return b_.CreateICmpNE(r, b_.getInt8(0));
  }
  void needString(const CgValue &x) {
    if (x.kind != TypeKind::String) {
      throw Unsupported{"a string function on a non-string"};
    }
  }

  CgValue builtin(const Expr &e, TypeKind result, const std::vector<CgValue> &args) {
    auto id = static_cast<FunctionId>(e.function);
    auto arity = [&](std::size_t n) {
      if (args.size() != n) {
        throw Unsupported{"built-in arity"};
      }
    };
    switch (id) {
    case FunctionId::Abs:
      arity(1);
      if (args[0].kind == TypeKind::Float) {
        return nonNull(TypeKind::Float, b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, args[0].v));
      }
      if (!usesInt(args[0].kind)) {
        break;
      }
      // Two's complement wrap for INT64_MIN (cep_stdlib_abs_int): a plain `sub`, no nsw.
      return nonNull(result, b_.CreateSelect(b_.CreateICmpSLT(args[0].v, b_.getInt64(0)),
                                             b_.CreateSub(b_.getInt64(0), args[0].v), args[0].v));
    case FunctionId::Min:
    case FunctionId::Max: {
      if (args.empty()) {
        break;
      }
      for (const auto &a : args) {
        if (a.kind != args[0].kind) {
          throw Unsupported{"min/max of mixed kinds"};
        }
      }
      CgValue best = args[0];
      for (std::size_t i = 1; i < args.size(); ++i) {
        llvm::Value *better = compareTest(id == FunctionId::Min ? Op::Lt : Op::Gt, args[i], best);
        best = select(better, args[i], best);
      }
      return coerce(best, result);
    }
    case FunctionId::Round:
      return nonNull(TypeKind::Float, inline1(llvm::Intrinsic::round, args.at(0)));
    case FunctionId::Floor:
      return nonNull(TypeKind::Float, inline1(llvm::Intrinsic::floor, args.at(0)));
    case FunctionId::Ceil:
      return nonNull(TypeKind::Float, inline1(llvm::Intrinsic::ceil, args.at(0)));
    case FunctionId::Sqrt:
      return nonNull(TypeKind::Float, inline1(llvm::Intrinsic::sqrt, args.at(0)));
    case FunctionId::Ln:
      return nonNull(TypeKind::Float, math1("cep_stdlib_ln", args.at(0)));
    case FunctionId::Exp:
      return nonNull(TypeKind::Float, math1("cep_stdlib_exp", args.at(0)));
    case FunctionId::Pow:
      arity(2);
      return nonNull(TypeKind::Float, call("cep_stdlib_pow", f64_, {f64_, f64_},
                                           {asFloat(args[0]), asFloat(args[1])}));
    case FunctionId::Len:
      arity(1);
      needString(args[0]);
      return nonNull(TypeKind::Int,
                     call("cep_stdlib_len", i64_, {ptr_, i64_}, {args[0].v, args[0].n}));
    case FunctionId::Lower:
    case FunctionId::Upper: {
      arity(1);
      needString(args[0]);
      llvm::Value *out = call("cep_rt_alloc", ptr_, {ptr_, i64_}, {rtctx_, args[0].n});
      call(id == FunctionId::Lower ? "cep_stdlib_lower" : "cep_stdlib_upper",
           llvm::Type::getVoidTy(ctx_), {ptr_, i64_, ptr_}, {args[0].v, args[0].n, out});
      return nonNull(TypeKind::String, out, args[0].n);
    }
    case FunctionId::Contains:
    case FunctionId::StartsWith:
    case FunctionId::EndsWith: {
      arity(2);
      needString(args[0]);
      needString(args[1]);
      const char *name = id == FunctionId::Contains     ? "cep_stdlib_contains"
                         : id == FunctionId::StartsWith ? "cep_stdlib_starts_with"
                                                        : "cep_stdlib_ends_with";
      return nonNull(TypeKind::Bool, boolCall(name, args[0], args[1]));
    }
    case FunctionId::Substr: {
      arity(3);
      needString(args[0]);
      llvm::AllocaInst *begin = slot(i64_, "substr.begin");
      llvm::AllocaInst *size = slot(i64_, "substr.size");
      call("cep_stdlib_substr", llvm::Type::getVoidTy(ctx_), {ptr_, i64_, i64_, i64_, ptr_, ptr_},
           {args[0].v, args[0].n, args[1].v, args[2].v, begin, size});
      llvm::Value *start = b_.CreateLoad(i64_, begin);
      return nonNull(TypeKind::String, b_.CreateInBoundsGEP(i8_, args[0].v, start),
                     b_.CreateLoad(i64_, size));
    }
    case FunctionId::Hour:
    case FunctionId::Minute:
    case FunctionId::DayOfWeek: {
      arity(1);
      const char *name = id == FunctionId::Hour     ? "cep_stdlib_hour"
                         : id == FunctionId::Minute ? "cep_stdlib_minute"
                                                    : "cep_stdlib_day_of_week";
      return nonNull(TypeKind::Int, call(name, i64_, {i64_}, {args[0].v}));
    }
    case FunctionId::Seconds:
    case FunctionId::Minutes:
    case FunctionId::Hours: {
      arity(1);
      // cep_stdlib_seconds / minutes / hours inline: one conversion, one division.
      double per = id == FunctionId::Seconds   ? 1000.0
                   : id == FunctionId::Minutes ? 60000.0
                                               : 3600000.0;
      return nonNull(TypeKind::Float, b_.CreateFDiv(b_.CreateSIToFP(args[0].v, f64_),
                                                    llvm::ConstantFP::get(f64_, per)));
    }
    case FunctionId::HaversineKm:
      arity(4);
      return nonNull(
          TypeKind::Float,
          call("cep_stdlib_haversine_km", f64_, {f64_, f64_, f64_, f64_},
               {asFloat(args[0]), asFloat(args[1]), asFloat(args[2]), asFloat(args[3])}));
    default:
      break;
    }
    throw Unsupported{"built-in function"};
  }

  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  const lang::typed::Program &program_;
  llvm::Type *i1_, *i8_, *i32_, *i64_, *f64_;
  llvm::PointerType *ptr_;
  llvm::Function *fn_ = nullptr;
  llvm::BasicBlock *entry_ = nullptr;
  llvm::Value *candidate_ = nullptr;
  llvm::Value *rtctx_ = nullptr;
  bool candidate_may_be_null_ = false;
  std::int32_t element_step_ = -2; // inside an aggregate's argument: the aggregated loop
  llvm::Value *element_ = nullptr;
  llvm::Value *values_ = nullptr; // AggregateTest/AggregateValue: the accumulator values
};

void collectConds(const nfa::Guard *g, std::vector<const Expr *> &out,
                  std::set<const Expr *> &seen) {
  if (g == nullptr) {
    return;
  }
  if (g->kind == nfa::Guard::Kind::Cond && g->expr != nullptr && seen.insert(g->expr).second) {
    out.push_back(g->expr);
  }
  for (const auto &a : g->args) {
    collectConds(a.get(), out, seen);
  }
}

} // namespace

bool emitFunction(llvm::Module &module, const lang::typed::Program &program, const Expr &e,
                  FunctionKind kind, const std::string &name, bool internal) {
  Emitter emitter(module, program);
  return emitter.emit(e, kind, name, internal) != nullptr;
}

} // namespace cep::compiler::codegen
