#include "compiler/codegen/pattern_codegen.hpp"

#include "compiler/codegen/expr_codegen.hpp"
#include "compiler/native/image_builder.hpp"
#include "runtime/event.hpp"
#include "support/internal_error.hpp"

#include <cstddef>
#include <functional>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <map>
#include <set>

namespace cep::compiler::codegen {

namespace rn = runtime::native;
using lang::TypeKind;
using lang::typed::Expr;
using lang::typed::Op;
using nfa::EdgeKind;
using nfa::Guard;
using nfa::StateKind;

static_assert(offsetof(CepBranch, take) == 0 && offsetof(CepBranch, source) == 4 &&
                  offsetof(CepBranch, target) == 8 && offsetof(CepBranch, counter) == 12 &&
                  offsetof(CepBranch, final_state) == 16 && sizeof(CepBranch) == 20,
              "CepBranch layout assumed by the step function");

namespace {

// Reads nothing but the candidate: no step references, no aggregates over bound events.
bool readsOnlyCandidate(const Expr &e) {
  switch (e.op) {
  case Op::Field:
    if (e.step != lang::typed::kCandidate) {
      return false;
    }
    break;
  case Op::First:
  case Op::Last:
  case Op::Count:
  case Op::CountOf:
  case Op::Sum:
  case Op::Avg:
  case Op::Min:
  case Op::Max:
    return false;
  default:
    break;
  }
  for (const auto &a : e.args) {
    if (!readsOnlyCandidate(*a)) {
      return false;
    }
  }
  return true;
}

// Calls no helper that needs the context (bound events, the arena).
bool contextFree(const llvm::Function &f) {
  for (const auto &bb : f) {
    for (const auto &inst : bb) {
      const auto *call = llvm::dyn_cast<llvm::CallBase>(&inst);
      if (call == nullptr) {
        continue;
      }
      const llvm::Function *callee = call->getCalledFunction();
      if (callee == nullptr) {
        return false;
      }
      llvm::StringRef name = callee->getName();
      if (name == "cep_rt_bound_count" || name == "cep_rt_bound_at" || name == "cep_rt_alloc") {
        return false;
      }
    }
  }
  return true;
}

void collectConds(const Guard *g, std::vector<const Guard *> &out) {
  if (g == nullptr) {
    return;
  }
  if (g->kind == Guard::Kind::Cond) {
    out.push_back(g);
  }
  for (const auto &a : g->args) {
    collectConds(a.get(), out);
  }
}

class PatternEmitter {
public:
  PatternEmitter(llvm::Module &module, const lang::typed::Program &program, const nfa::Nfa &nfa,
                 rn::PatternImage &image)
      : m_(module), ctx_(module.getContext()), b_(ctx_), program_(program), nfa_(nfa),
        pattern_(program.patterns.at(static_cast<std::size_t>(nfa.pattern_index))), image_(image) {
    i1_ = llvm::Type::getInt1Ty(ctx_);
    i8_ = llvm::Type::getInt8Ty(ctx_);
    i32_ = llvm::Type::getInt32Ty(ctx_);
    i64_ = llvm::Type::getInt64Ty(ctx_);
    void_ = llvm::Type::getVoidTy(ctx_);
    ptr_ = llvm::PointerType::getUnqual(ctx_);
  }

  void emit() {
    CEP_ASSERT(nfa_.program == nullptr || nfa_.program == &program_,
               "NFA of another program (its guards point into that one)");
    emitGuards();
    emitValues(pattern_.emit, image_.emit);
    if (pattern_.timeout_emit) {
      emitValues(*pattern_.timeout_emit, image_.timeout_emit);
    }
    computeReachesFinal();
    emitStateFunctions();
    emitStep();
    emitPrefilter();
    emitKeyHash();
    emitKeyEq();
  }

private:
  std::string symbol(const std::string &what) const {
    return native::imageSymbol(nfa_.pattern_index, what);
  }

  llvm::Function *function(llvm::Type *result, std::vector<llvm::Type *> params,
                           const std::string &name, bool internal) {
    auto *f = llvm::Function::Create(
        llvm::FunctionType::get(result, params, false),
        internal ? llvm::Function::InternalLinkage : llvm::Function::ExternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  }

  llvm::BasicBlock *block(llvm::Function *f, const char *name) {
    return llvm::BasicBlock::Create(ctx_, name, f);
  }

  void verify(llvm::Function *f) {
    std::string problems;
    llvm::raw_string_ostream os(problems);
    bool broken = llvm::verifyFunction(*f, &os);
    CEP_ASSERT(!broken, "generated function " + f->getName().str() + " is invalid: " + os.str());
  }

  const nfa::State &state(nfa::StateId s) const {
    return nfa_.states.at(static_cast<std::size_t>(s));
  }

  // --- guards ----------------------------------------------------------------------------------

  void emitGuards() {
    std::vector<const Guard *> conds;
    for (const auto &st : nfa_.states) {
      for (const auto &edge : st.edges) {
        collectConds(edge.guard.get(), conds);
      }
    }
    for (const Guard *g : conds) {
      CEP_ASSERT(g->expr != nullptr, "condition guard without an expression");
      if (guard_fns_.count(g->expr) != 0) {
        continue;
      }
      std::string name = symbol("guard." + std::to_string(guard_fns_.size()));
      if (!emitFunction(m_, program_, *g->expr, FunctionKind::Guard, name, true)) {
        throw InternalError("pattern " + nfa_.pattern + ": cannot lower the condition at byte " +
                            std::to_string(g->expr->range.begin) + " to native code");
      }
      llvm::Function *f = m_.getFunction(name);
      CEP_ASSERT(f != nullptr, "guard function " + name + " missing");
      guard_fns_[g->expr] = f;
      candidate_only_[g->expr] = readsOnlyCandidate(*g->expr) && contextFree(*f);
    }
  }

  void emitValues(const lang::typed::Emit &emit, const rn::EmitShape &shape) {
    CEP_ASSERT(emit.fields.size() == shape.fields.size(), "emit shape of another emit");
    for (std::size_t k = 0; k < emit.fields.size(); ++k) {
      if (!emitFunction(m_, program_, *emit.fields[k].value, FunctionKind::Value,
                        shape.fields[k].symbol)) {
        throw InternalError("pattern " + nfa_.pattern + ": cannot lower emit field `" +
                            emit.fields[k].name + "` to native code");
      }
    }
  }

  llvm::Value *loadType(llvm::Value *ev) {
    return b_.CreateLoad(i32_, ev, "type"); // Event::type is the first member
  }

  // The guard `g` on the event `ev` with loop counter `counter` (i1), short-circuiting And/Or
  // left to right as the interpreter's `passes`.
  llvm::Value *guard(const Guard *g, llvm::Value *ev, llvm::Value *rtctx, llvm::Value *counter) {
    if (g == nullptr) {
      return b_.getTrue();
    }
    switch (g->kind) {
    case Guard::Kind::True:
      return b_.getTrue();
    case Guard::Kind::False:
      return b_.getFalse();
    case Guard::Kind::TypeIs:
      return b_.CreateICmpEQ(loadType(ev), b_.getInt32(static_cast<std::uint32_t>(g->event_type)));
    case Guard::Kind::Cond: {
      llvm::Function *f = guard_fns_.at(g->expr);
      llvm::Value *r = b_.CreateCall(f, {ev, rtctx});
      return b_.CreateICmpNE(r, b_.getInt8(0));
    }
    case Guard::Kind::CountBelow:
      return b_.CreateICmpULT(counter, b_.getInt32(g->count));
    case Guard::Kind::CountAtLeast:
      return b_.CreateICmpUGE(counter, b_.getInt32(g->count));
    case Guard::Kind::Not:
      CEP_ASSERT(g->args.size() == 1, "`not` guard needs one argument");
      return b_.CreateNot(guard(g->args[0].get(), ev, rtctx, counter));
    case Guard::Kind::And:
    case Guard::Kind::Or: {
      bool is_and = g->kind == Guard::Kind::And;
      if (g->args.empty()) {
        return is_and ? b_.getTrue() : b_.getFalse();
      }
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *done = block(f, is_and ? "and.done" : "or.done");
      std::vector<std::pair<llvm::BasicBlock *, llvm::Value *>> incoming;
      for (std::size_t i = 0; i < g->args.size(); ++i) {
        llvm::Value *v = guard(g->args[i].get(), ev, rtctx, counter);
        llvm::BasicBlock *here = b_.GetInsertBlock();
        if (i + 1 == g->args.size()) {
          incoming.emplace_back(here, v);
          b_.CreateBr(done);
          break;
        }
        llvm::BasicBlock *next = block(f, is_and ? "and.next" : "or.next");
        incoming.emplace_back(here, is_and ? b_.getFalse() : b_.getTrue());
        if (is_and) {
          b_.CreateCondBr(v, next, done);
        } else {
          b_.CreateCondBr(v, done, next);
        }
        b_.SetInsertPoint(next);
      }
      b_.SetInsertPoint(done);
      llvm::PHINode *phi = b_.CreatePHI(i1_, static_cast<unsigned>(incoming.size()));
      for (auto &[bb, v] : incoming) {
        phi->addIncoming(v, bb);
      }
      return phi;
    }
    }
    throw InternalError("unknown guard kind");
  }

  // --- the decision graph ------------------------------------------------------------------

  // The counter after `edge` (interp's counterAfter) as IR.
  llvm::Value *counterAfter(const nfa::Edge &edge, llvm::Value *counter) {
    if (edge.resets_counter) {
      return b_.getInt32(0);
    }
    if (edge.counts) {
      return b_.CreateAdd(counter, b_.getInt32(1));
    }
    return counter;
  }

  // Whether a run that reaches `s` can reach $final through PROCEED edges alone.
  void computeReachesFinal() {
    reaches_final_.assign(nfa_.states.size(), 0);
    std::vector<std::uint8_t> done(nfa_.states.size(), 0);
    std::function<bool(nfa::StateId)> visit = [&](nfa::StateId s) -> bool {
      auto i = static_cast<std::size_t>(s);
      if (done[i] == 2) {
        return reaches_final_[i] != 0;
      }
      CEP_ASSERT(done[i] == 0, "PROCEED cycle through " + state(s).name + " in " + nfa_.pattern);
      done[i] = 1;
      bool r = false;
      for (const auto &edge : state(s).edges) {
        if (edge.kind != EdgeKind::Proceed) {
          continue;
        }
        if (state(edge.target).kind == StateKind::Final || visit(edge.target)) {
          r = true;
        }
      }
      done[i] = 2;
      reaches_final_[i] = r ? 1 : 0;
      return r;
    };
    for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
      visit(static_cast<nfa::StateId>(s));
    }
  }

  // visit.<s>(e, ctx, counter, out, n*, discard*): the branches of a run in `s` (nextRuns'
  // stack handling of one state, its PROCEED targets visited depth first, last edge first).
  // fap.<s>(e, ctx, counter) -> i32: findFinalStateAfterProceed from `s`.
  void emitStateFunctions() {
    for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
      visit_fns_.push_back(function(void_, {ptr_, ptr_, i32_, ptr_, ptr_, ptr_},
                                    symbol("visit." + std::to_string(s)), true));
      fap_fns_.push_back(
          function(i32_, {ptr_, ptr_, i32_}, symbol("fap." + std::to_string(s)), true));
    }
    for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
      emitVisit(static_cast<nfa::StateId>(s));
      emitFap(static_cast<nfa::StateId>(s));
    }
  }

  void emitVisit(nfa::StateId s) {
    llvm::Function *f = visit_fns_[static_cast<std::size_t>(s)];
    llvm::Value *ev = f->getArg(0);
    llvm::Value *rtctx = f->getArg(1);
    llvm::Value *counter = f->getArg(2);
    llvm::Value *out = f->getArg(3);
    llvm::Value *count = f->getArg(4);
    llvm::Value *discard = f->getArg(5);
    b_.SetInsertPoint(block(f, "entry"));
    const auto &edges = state(s).edges;
    // The state's guards, in edge order.
    std::vector<llvm::Value *> passes;
    for (const auto &edge : edges) {
      passes.push_back(guard(edge.guard.get(), ev, rtctx, counter));
    }
    // Its own TAKE / IGNORE branches, in edge order.
    for (std::size_t k = 0; k < edges.size(); ++k) {
      const nfa::Edge &edge = edges[k];
      if (edge.kind == EdgeKind::Proceed) {
        continue;
      }
      llvm::BasicBlock *write = block(f, edge.kind == EdgeKind::Take ? "take" : "ignore");
      llvm::BasicBlock *next = block(f, "next");
      b_.CreateCondBr(passes[k], write, next);
      b_.SetInsertPoint(write);
      llvm::Value *c = counterAfter(edge, counter);
      llvm::Value *final_state = b_.getInt32(-1);
      if (edge.kind == EdgeKind::Take && reaches_final_[static_cast<std::size_t>(edge.target)]) {
        final_state =
            b_.CreateCall(fap_fns_[static_cast<std::size_t>(edge.target)], {ev, rtctx, c});
      }
      llvm::Value *index = b_.CreateLoad(i32_, count, "n");
      llvm::Value *slot = b_.CreateInBoundsGEP(
          i8_, out, b_.CreateMul(b_.CreateZExt(index, i64_), b_.getInt64(sizeof(CepBranch))));
      auto at = [&](std::uint64_t offset) {
        return b_.CreateInBoundsGEP(i8_, slot, b_.getInt64(offset));
      };
      b_.CreateStore(b_.getInt8(edge.kind == EdgeKind::Take ? 1 : 0), at(0));
      b_.CreateStore(b_.getInt8(0), at(1));
      b_.CreateStore(b_.getInt8(0), at(2));
      b_.CreateStore(b_.getInt8(0), at(3));
      b_.CreateStore(b_.getInt32(static_cast<std::uint32_t>(s)), at(4));
      b_.CreateStore(b_.getInt32(static_cast<std::uint32_t>(edge.target)), at(8));
      b_.CreateStore(c, at(12));
      b_.CreateStore(final_state, at(16));
      b_.CreateStore(b_.CreateAdd(index, b_.getInt32(1)), count);
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    }
    // PROCEED edges: a stop state discards; the others are visited last edge first.
    for (std::size_t k = 0; k < edges.size(); ++k) {
      const nfa::Edge &edge = edges[k];
      if (edge.kind != EdgeKind::Proceed || state(edge.target).kind != StateKind::Stop) {
        continue;
      }
      llvm::BasicBlock *stop = block(f, "stop");
      llvm::BasicBlock *next = block(f, "next");
      b_.CreateCondBr(passes[k], stop, next);
      b_.SetInsertPoint(stop);
      b_.CreateStore(b_.getInt8(1), discard);
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    }
    for (std::size_t k = edges.size(); k-- > 0;) {
      const nfa::Edge &edge = edges[k];
      if (edge.kind != EdgeKind::Proceed || state(edge.target).kind == StateKind::Stop) {
        continue;
      }
      llvm::BasicBlock *go = block(f, "proceed");
      llvm::BasicBlock *next = block(f, "next");
      b_.CreateCondBr(passes[k], go, next);
      b_.SetInsertPoint(go);
      b_.CreateCall(visit_fns_[static_cast<std::size_t>(edge.target)],
                    {ev, rtctx, counterAfter(edge, counter), out, count, discard});
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    }
    b_.CreateRetVoid();
    verify(f);
  }

  void emitFap(nfa::StateId s) {
    llvm::Function *f = fap_fns_[static_cast<std::size_t>(s)];
    llvm::Value *ev = f->getArg(0);
    llvm::Value *rtctx = f->getArg(1);
    llvm::Value *counter = f->getArg(2);
    b_.SetInsertPoint(block(f, "entry"));
    const auto &edges = state(s).edges;
    std::vector<llvm::Value *> passes(edges.size(), nullptr);
    for (std::size_t k = 0; k < edges.size(); ++k) {
      const nfa::Edge &edge = edges[k];
      if (edge.kind != EdgeKind::Proceed) {
        continue;
      }
      passes[k] = guard(edge.guard.get(), ev, rtctx, counter);
      if (state(edge.target).kind == StateKind::Final) {
        llvm::BasicBlock *found = block(f, "final");
        llvm::BasicBlock *next = block(f, "next");
        b_.CreateCondBr(passes[k], found, next);
        b_.SetInsertPoint(found);
        b_.CreateRet(b_.getInt32(static_cast<std::uint32_t>(edge.target)));
        b_.SetInsertPoint(next);
      }
    }
    for (std::size_t k = edges.size(); k-- > 0;) {
      const nfa::Edge &edge = edges[k];
      if (edge.kind != EdgeKind::Proceed || state(edge.target).kind == StateKind::Final ||
          !reaches_final_[static_cast<std::size_t>(edge.target)]) {
        continue; // a state that cannot reach $final contributes nothing (-1)
      }
      llvm::BasicBlock *go = block(f, "proceed");
      llvm::BasicBlock *found = block(f, "found");
      llvm::BasicBlock *next = block(f, "next");
      b_.CreateCondBr(passes[k], go, next);
      b_.SetInsertPoint(go);
      llvm::Value *r = b_.CreateCall(fap_fns_[static_cast<std::size_t>(edge.target)],
                                     {ev, rtctx, counterAfter(edge, counter)});
      b_.CreateCondBr(b_.CreateICmpSGE(r, b_.getInt32(0)), found, next);
      b_.SetInsertPoint(found);
      b_.CreateRet(r);
      b_.SetInsertPoint(next);
    }
    b_.CreateRet(b_.getInt32(-1));
    verify(f);
  }

  void emitStep() {
    llvm::Function *f =
        function(i32_, {ptr_, ptr_, i32_, i32_, ptr_, ptr_}, image_.step_symbol, false);
    llvm::Value *ev = f->getArg(0);
    llvm::Value *rtctx = f->getArg(1);
    llvm::Value *st = f->getArg(2);
    llvm::Value *counter = f->getArg(3);
    llvm::Value *out = f->getArg(4);
    llvm::Value *discard = f->getArg(5);
    ev->setName("e");
    rtctx->setName("ctx");
    st->setName("state");
    counter->setName("counter");
    out->setName("out");
    discard->setName("discard");
    llvm::BasicBlock *entry = block(f, "entry");
    llvm::BasicBlock *done = block(f, "done");
    b_.SetInsertPoint(entry);
    llvm::Value *count = b_.CreateAlloca(i32_, nullptr, "n");
    b_.CreateStore(b_.getInt32(0), count);
    llvm::SwitchInst *sw = b_.CreateSwitch(st, done);
    for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
      if (nfa_.states[s].edges.empty()) {
        continue;
      }
      llvm::BasicBlock *bb = block(f, "state");
      sw->addCase(b_.getInt32(static_cast<std::uint32_t>(s)), bb);
      b_.SetInsertPoint(bb);
      b_.CreateCall(visit_fns_[s], {ev, rtctx, counter, out, count, discard});
      b_.CreateBr(done);
    }
    b_.SetInsertPoint(done);
    b_.CreateRet(b_.CreateLoad(i32_, count));
    verify(f);
  }

  // --- prefilter: three-valued guards (0 false, 1 true, 2 unknown) ---------------------------

  llvm::Value *tri(const Guard *g, llvm::Value *ev) {
    if (g == nullptr) {
      return b_.getInt8(1);
    }
    switch (g->kind) {
    case Guard::Kind::True:
      return b_.getInt8(1);
    case Guard::Kind::False:
      return b_.getInt8(0);
    case Guard::Kind::TypeIs:
      return b_.CreateZExt(
          b_.CreateICmpEQ(loadType(ev), b_.getInt32(static_cast<std::uint32_t>(g->event_type))),
          i8_);
    case Guard::Kind::Cond:
      if (candidate_only_.at(g->expr)) {
        llvm::Value *r =
            b_.CreateCall(guard_fns_.at(g->expr), {ev, llvm::ConstantPointerNull::get(ptr_)});
        return b_.CreateZExt(b_.CreateICmpNE(r, b_.getInt8(0)), i8_);
      }
      return b_.getInt8(2);
    case Guard::Kind::CountBelow:
    case Guard::Kind::CountAtLeast:
      return b_.getInt8(2);
    case Guard::Kind::Not: {
      CEP_ASSERT(g->args.size() == 1, "`not` guard needs one argument");
      llvm::Value *v = tri(g->args[0].get(), ev);
      return b_.CreateSelect(b_.CreateICmpEQ(v, b_.getInt8(2)), b_.getInt8(2),
                             b_.CreateXor(v, b_.getInt8(1)));
    }
    case Guard::Kind::And:
    case Guard::Kind::Or: {
      bool is_and = g->kind == Guard::Kind::And;
      // And: false as soon as an argument is false, else unknown if one was, else true.
      std::uint8_t decisive = is_and ? 0 : 1;
      llvm::Value *acc = b_.getInt8(is_and ? 1 : 0);
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *done = block(f, "tri.done");
      std::vector<std::pair<llvm::BasicBlock *, llvm::Value *>> incoming;
      for (const auto &a : g->args) {
        llvm::Value *v = tri(a.get(), ev);
        acc = b_.CreateSelect(b_.CreateICmpEQ(v, b_.getInt8(2)), b_.getInt8(2), acc);
        llvm::BasicBlock *next = block(f, "tri.next");
        incoming.emplace_back(b_.GetInsertBlock(), b_.getInt8(decisive));
        b_.CreateCondBr(b_.CreateICmpEQ(v, b_.getInt8(decisive)), done, next);
        b_.SetInsertPoint(next);
      }
      incoming.emplace_back(b_.GetInsertBlock(), acc);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
      llvm::PHINode *phi = b_.CreatePHI(i8_, static_cast<unsigned>(incoming.size()));
      for (auto &[bb, v] : incoming) {
        phi->addIncoming(v, bb);
      }
      return phi;
    }
    }
    throw InternalError("unknown guard kind");
  }

  // The IGNORE self-loop that keeps a run in `s` unchanged, or null when it has none.
  static const nfa::Edge *selfLoop(const nfa::State &st, nfa::StateId s) {
    for (const auto &edge : st.edges) {
      if (edge.kind == EdgeKind::Ignore && edge.target == s && !edge.counts &&
          !edge.resets_counter) {
        return &edge;
      }
    }
    return nullptr;
  }

  // Whether a run other than the fresh one can be in the start state (an edge other than the
  // start's own IGNORE edges leads there).
  bool startHoldsRuns() const {
    for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
      for (const auto &edge : nfa_.states[s].edges) {
        if (edge.target == nfa_.start &&
            !(static_cast<nfa::StateId>(s) == nfa_.start && edge.kind == EdgeKind::Ignore)) {
          return true;
        }
      }
    }
    return false;
  }

  void emitPrefilter() {
    llvm::Function *f = function(i8_, {ptr_}, image_.prefilter_symbol, false);
    llvm::Value *ev = f->getArg(0);
    ev->setName("e");
    b_.SetInsertPoint(block(f, "entry"));
    llvm::BasicBlock *yes = block(f, "maybe");
    // The states a live run can wait in need an IGNORE self-loop (else every event changes them).
    bool possible = true;
    bool start_holds = startHoldsRuns();
    for (std::size_t s = 0; s < nfa_.states.size() && possible; ++s) {
      const nfa::State &st = nfa_.states[s];
      bool needs_loop = st.kind != StateKind::Final && st.kind != StateKind::Stop &&
                        (static_cast<nfa::StateId>(s) != nfa_.start || start_holds);
      if (needs_loop && selfLoop(st, static_cast<nfa::StateId>(s)) == nullptr) {
        possible = false;
      }
    }
    if (possible) {
      auto require = [&](llvm::Value *v, std::uint8_t expected) {
        llvm::BasicBlock *next = block(f, "next");
        b_.CreateCondBr(b_.CreateICmpEQ(v, b_.getInt8(expected)), next, yes);
        b_.SetInsertPoint(next);
      };
      // Every TAKE and PROCEED guard is definitely false.
      for (const auto &st : nfa_.states) {
        for (const auto &edge : st.edges) {
          if (edge.kind != EdgeKind::Ignore) {
            require(tri(edge.guard.get(), ev), 0);
          }
        }
      }
      // Every state a run can wait in keeps it through exactly its IGNORE self-loop.
      for (std::size_t s = 0; s < nfa_.states.size(); ++s) {
        const nfa::State &st = nfa_.states[s];
        bool needs_loop = st.kind != StateKind::Final && st.kind != StateKind::Stop &&
                          (static_cast<nfa::StateId>(s) != nfa_.start || start_holds);
        if (!needs_loop) {
          continue;
        }
        const nfa::Edge *loop = selfLoop(st, static_cast<nfa::StateId>(s));
        for (const auto &edge : st.edges) {
          if (edge.kind == EdgeKind::Ignore) {
            require(tri(edge.guard.get(), ev), &edge == loop ? 1 : 0);
          }
        }
      }
      b_.CreateRet(b_.getInt8(0));
    } else {
      b_.CreateBr(yes);
    }
    // Some run may change. The start-state filter: 2 when the fresh run in the start state takes
    // nothing (every TAKE guard of the states it reaches through PROCEED edges is definitely
    // false), so the matcher need not call the start state's step at all; else 1.
    b_.SetInsertPoint(yes);
    llvm::BasicBlock *starts = block(f, "starts");
    for (std::size_t s : startClosure()) {
      for (const auto &edge : nfa_.states[s].edges) {
        if (edge.kind == EdgeKind::Take) {
          llvm::BasicBlock *next = block(f, "next");
          b_.CreateCondBr(b_.CreateICmpEQ(tri(edge.guard.get(), ev), b_.getInt8(0)), next, starts);
          b_.SetInsertPoint(next);
        }
      }
    }
    b_.CreateRet(b_.getInt8(2));
    b_.SetInsertPoint(starts);
    b_.CreateRet(b_.getInt8(1));
    verify(f);
  }

  // The start state and every state reachable from it through PROCEED edges (whatever their
  // guards): the states whose TAKE edges can bind an event to a fresh run.
  std::vector<std::size_t> startClosure() const {
    std::vector<bool> seen(nfa_.states.size(), false);
    std::vector<std::size_t> order{static_cast<std::size_t>(nfa_.start)};
    seen[order[0]] = true;
    for (std::size_t i = 0; i < order.size(); ++i) {
      for (const auto &edge : nfa_.states[order[i]].edges) {
        auto t = static_cast<std::size_t>(edge.target);
        if (edge.kind == EdgeKind::Proceed && !seen[t]) {
          seen[t] = true;
          order.push_back(t);
        }
      }
    }
    return order;
  }

  // --- partition key -------------------------------------------------------------------------

  // Key field `k` of the event at `ev`: null flag, i64 bits (scalars) or (ptr, length) (strings).
  struct KeyPart {
    llvm::Value *null = nullptr;
    llvm::Value *bits = nullptr;
    llvm::Value *s = nullptr;
    llvm::Value *n = nullptr;
  };

  TypeKind keyKind(std::size_t k) const { return pattern_.key_types.at(k).kind; }

  KeyPart keyPart(llvm::Value *ev, std::size_t k) {
    TypeKind kind = keyKind(k);
    bool is_string = kind == TypeKind::String;
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *done = block(f, "key.done");
    llvm::BasicBlock *none = block(f, "key.none");
    llvm::SwitchInst *sw = b_.CreateSwitch(loadType(ev), none);
    struct In {
      llvm::BasicBlock *bb;
      llvm::Value *null, *bits, *s, *n;
    };
    std::vector<In> in;
    for (std::size_t t = 0; t < image_.key_fields.size(); ++t) {
      const auto &fields = image_.key_fields[t];
      if (fields.empty()) {
        continue;
      }
      CEP_ASSERT(k < fields.size(), "key field missing in an event type");
      std::int32_t field = fields[k];
      CEP_ASSERT(field >= 0 && field < 64, "key field index");
      llvm::BasicBlock *bb = block(f, "key.type");
      sw->addCase(b_.getInt32(static_cast<std::uint32_t>(t)), bb);
      b_.SetInsertPoint(bb);
      llvm::Value *nulls = b_.CreateLoad(
          i64_, b_.CreateInBoundsGEP(i8_, ev, b_.getInt64(offsetof(runtime::Event, nulls))));
      llvm::Value *is_null = b_.CreateICmpNE(
          b_.CreateAnd(b_.CreateLShr(nulls, b_.getInt64(static_cast<std::uint64_t>(field))),
                       b_.getInt64(1)),
          b_.getInt64(0));
      llvm::Value *slot = b_.CreateInBoundsGEP(
          i8_, ev, b_.getInt64(sizeof(runtime::Event) + static_cast<std::uint64_t>(field) * 8));
      llvm::Value *bits = b_.getInt64(0);
      llvm::Value *s = llvm::ConstantPointerNull::get(ptr_);
      llvm::Value *n = b_.getInt64(0);
      switch (kind) {
      case TypeKind::Bool:
        bits = b_.CreateZExt(b_.CreateICmpNE(b_.CreateLoad(i8_, slot), b_.getInt8(0)), i64_);
        break;
      case TypeKind::Float: {
        bits = b_.CreateLoad(i64_, slot);
        // Infinities and NaN are written as null: they key as null.
        llvm::Value *exp = b_.getInt64(0x7ff0000000000000ULL);
        is_null = b_.CreateOr(is_null, b_.CreateICmpEQ(b_.CreateAnd(bits, exp), exp));
        break;
      }
      case TypeKind::String: {
        llvm::BasicBlock *load = block(f, "key.str");
        llvm::BasicBlock *joined = block(f, "key.strdone");
        llvm::BasicBlock *from = b_.GetInsertBlock();
        b_.CreateCondBr(is_null, joined, load);
        b_.SetInsertPoint(load);
        llvm::Value *ref = b_.CreateLoad(ptr_, slot);
        llvm::Value *size = b_.CreateZExt(
            b_.CreateLoad(i32_, b_.CreateInBoundsGEP(
                                    i8_, ref, b_.getInt64(offsetof(runtime::StringRef, size)))),
            i64_);
        llvm::Value *data =
            b_.CreateInBoundsGEP(i8_, ref, b_.getInt64(offsetof(runtime::StringRef, data)));
        b_.CreateBr(joined);
        b_.SetInsertPoint(joined);
        llvm::PHINode *ps = b_.CreatePHI(ptr_, 2);
        ps->addIncoming(s, from);
        ps->addIncoming(data, load);
        llvm::PHINode *pn = b_.CreatePHI(i64_, 2);
        pn->addIncoming(n, from);
        pn->addIncoming(size, load);
        s = ps;
        n = pn;
        break;
      }
      case TypeKind::Int:
      case TypeKind::Time:
      case TypeKind::Duration:
        bits = b_.CreateLoad(i64_, slot);
        break;
      default:
        throw InternalError("a partition key of a non-scalar type");
      }
      in.push_back({b_.GetInsertBlock(), is_null, bits, s, n});
      b_.CreateBr(done);
    }
    b_.SetInsertPoint(none);
    in.push_back(
        {none, b_.getTrue(), b_.getInt64(0), llvm::ConstantPointerNull::get(ptr_), b_.getInt64(0)});
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    auto phi = [&](llvm::Type *t, auto member) {
      llvm::PHINode *p = b_.CreatePHI(t, static_cast<unsigned>(in.size()));
      for (const In &i : in) {
        p->addIncoming(i.*member, i.bb);
      }
      return p;
    };
    KeyPart part;
    part.null = phi(i1_, &In::null);
    part.bits = phi(i64_, &In::bits);
    if (is_string) {
      part.s = phi(ptr_, &In::s);
      part.n = phi(i64_, &In::n);
    }
    return part;
  }

  llvm::Value *mix(llvm::Value *h, llvm::Value *v) {
    h = b_.CreateMul(b_.CreateXor(h, v), b_.getInt64(0x100000001b3ULL));
    return b_.CreateXor(h, b_.CreateLShr(h, b_.getInt64(29)));
  }

  // FNV-1a over the bytes of a string (an inline loop).
  llvm::Value *hashBytes(llvm::Value *s, llvm::Value *n) {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *from = b_.GetInsertBlock();
    llvm::BasicBlock *loop = block(f, "str.loop");
    llvm::BasicBlock *body = block(f, "str.body");
    llvm::BasicBlock *done = block(f, "str.done");
    b_.CreateBr(loop);
    b_.SetInsertPoint(loop);
    llvm::PHINode *i = b_.CreatePHI(i64_, 2, "i");
    llvm::PHINode *h = b_.CreatePHI(i64_, 2, "h");
    i->addIncoming(b_.getInt64(0), from);
    h->addIncoming(b_.getInt64(0xcbf29ce484222325ULL), from);
    b_.CreateCondBr(b_.CreateICmpULT(i, n), body, done);
    b_.SetInsertPoint(body);
    llvm::Value *byte = b_.CreateZExt(b_.CreateLoad(i8_, b_.CreateInBoundsGEP(i8_, s, i)), i64_);
    llvm::Value *h2 = b_.CreateMul(b_.CreateXor(h, byte), b_.getInt64(0x100000001b3ULL));
    i->addIncoming(b_.CreateAdd(i, b_.getInt64(1)), body);
    h->addIncoming(h2, body);
    b_.CreateBr(loop);
    b_.SetInsertPoint(done);
    return h;
  }

  void emitKeyHash() {
    llvm::Function *f = function(i64_, {ptr_}, image_.key_hash_symbol, false);
    llvm::Value *ev = f->getArg(0);
    ev->setName("e");
    b_.SetInsertPoint(block(f, "entry"));
    if (!image_.keyed) {
      b_.CreateRet(b_.getInt64(0));
      verify(f);
      return;
    }
    llvm::Value *h = b_.getInt64(0x9e3779b97f4a7c15ULL);
    for (std::size_t k = 0; k < pattern_.key_types.size(); ++k) {
      KeyPart p = keyPart(ev, k);
      llvm::Value *v;
      if (keyKind(k) == TypeKind::String) {
        llvm::Function *fn = f;
        llvm::BasicBlock *from = b_.GetInsertBlock();
        llvm::BasicBlock *some = block(fn, "key.hashstr");
        llvm::BasicBlock *joined = block(fn, "key.hashed");
        b_.CreateCondBr(p.null, joined, some);
        b_.SetInsertPoint(some);
        llvm::Value *hs = b_.CreateXor(hashBytes(p.s, p.n), b_.CreateShl(p.n, b_.getInt64(7)));
        llvm::BasicBlock *some_end = b_.GetInsertBlock();
        b_.CreateBr(joined);
        b_.SetInsertPoint(joined);
        llvm::PHINode *phi = b_.CreatePHI(i64_, 2);
        phi->addIncoming(b_.getInt64(0x6e756c6c6e756c6cULL), from);
        phi->addIncoming(hs, some_end);
        v = phi;
      } else {
        v = b_.CreateSelect(p.null, b_.getInt64(0x6e756c6c6e756c6cULL), p.bits);
      }
      h = mix(mix(h, v), b_.CreateZExt(p.null, i64_));
    }
    // Final avalanche (MurmurHash3's fmix64).
    h = b_.CreateXor(h, b_.CreateLShr(h, b_.getInt64(33)));
    h = b_.CreateMul(h, b_.getInt64(0xff51afd7ed558ccdULL));
    h = b_.CreateXor(h, b_.CreateLShr(h, b_.getInt64(33)));
    h = b_.CreateMul(h, b_.getInt64(0xc4ceb9fe1a85ec53ULL));
    h = b_.CreateXor(h, b_.CreateLShr(h, b_.getInt64(33)));
    b_.CreateRet(h);
    verify(f);
  }

  llvm::FunctionCallee strcmpFn() {
    return m_.getOrInsertFunction("cep_rt_strcmp",
                                  llvm::FunctionType::get(i32_, {ptr_, i64_, ptr_, i64_}, false));
  }

  void emitKeyEq() {
    llvm::Function *f = function(i8_, {ptr_, ptr_}, image_.key_eq_symbol, false);
    llvm::Value *a = f->getArg(0);
    llvm::Value *b = f->getArg(1);
    a->setName("a");
    b->setName("b");
    b_.SetInsertPoint(block(f, "entry"));
    if (!image_.keyed) {
      b_.CreateRet(b_.getInt8(1));
      verify(f);
      return;
    }
    llvm::BasicBlock *differ = block(f, "differ");
    for (std::size_t k = 0; k < pattern_.key_types.size(); ++k) {
      KeyPart pa = keyPart(a, k);
      KeyPart pb = keyPart(b, k);
      // Both null: equal; one null: differ; else compare values.
      llvm::BasicBlock *both_null = block(f, "eq.bothnull");
      llvm::BasicBlock *check = block(f, "eq.check");
      llvm::BasicBlock *values = block(f, "eq.values");
      llvm::BasicBlock *next = block(f, "eq.next");
      b_.CreateCondBr(b_.CreateAnd(pa.null, pb.null), both_null, check);
      b_.SetInsertPoint(both_null);
      b_.CreateBr(next);
      b_.SetInsertPoint(check);
      b_.CreateCondBr(b_.CreateOr(pa.null, pb.null), differ, values);
      b_.SetInsertPoint(values);
      llvm::Value *same;
      if (keyKind(k) == TypeKind::String) {
        // Lengths first: the bytes are compared only when they agree.
        llvm::BasicBlock *bytes = block(f, "eq.bytes");
        b_.CreateCondBr(b_.CreateICmpEQ(pa.n, pb.n), bytes, differ);
        b_.SetInsertPoint(bytes);
        llvm::Value *c = b_.CreateCall(strcmpFn(), {pa.s, pa.n, pb.s, pb.n});
        same = b_.CreateICmpEQ(c, b_.getInt32(0));
      } else {
        same = b_.CreateICmpEQ(pa.bits, pb.bits);
      }
      b_.CreateCondBr(same, next, differ);
      b_.SetInsertPoint(next);
    }
    b_.CreateRet(b_.getInt8(1));
    b_.SetInsertPoint(differ);
    b_.CreateRet(b_.getInt8(0));
    verify(f);
  }

  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  const lang::typed::Program &program_;
  const nfa::Nfa &nfa_;
  const lang::typed::Pattern &pattern_;
  rn::PatternImage &image_;
  llvm::Type *i1_, *i8_, *i32_, *i64_, *void_;
  llvm::PointerType *ptr_;
  std::map<const Expr *, llvm::Function *> guard_fns_;
  std::map<const Expr *, bool> candidate_only_;
  std::vector<llvm::Function *> visit_fns_;
  std::vector<llvm::Function *> fap_fns_;
  std::vector<std::uint8_t> reaches_final_;
};

} // namespace

std::vector<rn::PatternImage> emitProgram(llvm::Module &module, const lang::typed::Program &program,
                                          const std::vector<const nfa::Nfa *> &nfas) {
  std::vector<rn::PatternImage> images;
  std::set<std::int32_t> seen;
  for (const nfa::Nfa *n : nfas) {
    CEP_ASSERT(n != nullptr, "null NFA");
    CEP_ASSERT(seen.insert(n->pattern_index).second,
               "pattern " + n->pattern + " given twice to emitProgram");
    images.push_back(native::buildImage(program, *n));
    PatternEmitter(module, program, *n, images.back()).emit();
  }
  return images;
}

std::vector<rn::PatternImage> emitProgram(llvm::Module &module, const lang::typed::Program &program,
                                          const std::vector<nfa::Nfa> &nfas) {
  std::vector<const nfa::Nfa *> pointers;
  for (const auto &n : nfas) {
    pointers.push_back(&n);
  }
  return emitProgram(module, program, pointers);
}

} // namespace cep::compiler::codegen
