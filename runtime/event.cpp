#include "runtime/event.hpp"

#include <cstdlib>
#include <new>

namespace cep::runtime {

Event *allocateEvent(std::uint32_t type, std::uint32_t fields, std::size_t extra) {
  std::size_t bytes = sizeof(Event) + fields * sizeof(Slot) + extra;
  void *block = std::malloc(bytes);
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  auto *e = new (block) Event();
  e->type = type;
  e->field_count = fields;
  e->nulls = fields >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << fields) - 1);
  std::memset(static_cast<void *>(e->slots()), 0, fields * sizeof(Slot));
  return e;
}

void freeEvent(Event *e) {
  e->~Event();
  std::free(e);
}

} // namespace cep::runtime
