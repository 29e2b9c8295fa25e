// A RocksDB database that is not a checkpoint store, for the store's refusal tests
// (store_kill_helper.cpp `foreign`). Its own translation unit: the store's users never see
// rocksdb/*.h, and neither does the helper's main.
#include <cstdio>
#include <memory>
#include <rocksdb/db.h>
#include <string>

namespace cep::test {

int makeForeignDatabase(const std::string &dir, const std::string &marker) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB *raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  s = marker.empty() ? db->Put(rocksdb::WriteOptions(), "user", "data")
                     : db->Put(rocksdb::WriteOptions(), "store", marker);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return db->Close().ok() ? 0 : 1;
}

} // namespace cep::test
