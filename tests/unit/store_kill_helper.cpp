// The child process of the checkpoint store's kill test (state_store_test.cpp, [store]):
//   cep_store_kill_helper commit DIR     commits checkpoints latest+1, latest+2, ... of the
//                                        history in store_model_test.hpp until killed (at
//                                        most 100,000), printing "b ID" before building each
//                                        batch and "c ID" once its commit returned
//   cep_store_kill_helper foreign DIR [MARKER]   makes DIR a RocksDB database that is not a
//                                        store (or has the store marker MARKER)
#include "store_model_test.hpp"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace cep::test {
int makeForeignDatabase(const std::string &dir, const std::string &marker);
}

int main(int argc, char **argv) {
  using cep::runtime::store::CheckpointStore;
  std::string mode = argc > 1 ? argv[1] : "";
  if (argc >= 3 && mode == "foreign") {
    return cep::test::makeForeignDatabase(argv[2], argc > 3 ? argv[3] : "");
  }
  if (argc != 3 || mode != "commit") {
    std::fprintf(stderr, "usage: cep_store_kill_helper commit DIR | foreign DIR [MARKER]\n");
    return 2;
  }
  std::string error;
  auto store = CheckpointStore::open(argv[2], {}, error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 3;
  }
  std::uint64_t first = store->latest().value_or(0) + 1;
  auto say = [](char what, std::uint64_t i) {
    std::string line = what + (" " + std::to_string(i)) + "\n";
    return write(1, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  };
  for (std::uint64_t i = first; i < first + 100000; ++i) {
    if (!say('b', i)) {
      return 6;
    }
    auto batch = store->begin();
    if (batch.id() != i) {
      std::fprintf(stderr, "batch for %llu, expected %llu\n",
                   static_cast<unsigned long long>(batch.id()), static_cast<unsigned long long>(i));
      return 4;
    }
    cep::test::store_model::changesOf(i, batch);
    if (!store->commit(std::move(batch), error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 5;
    }
    if (!say('c', i)) {
      return 6;
    }
  }
  return 0;
}
