// .cepo artifacts: encoding and checked decoding (compiler/artifact/cepo.hpp). LLVM-free.
#include "compiler/artifact/cepo.hpp"

#include "compiler/artifact/signing.hpp"
#include "compiler/artifact/verify.hpp"
#include "runtime/engine/run_snapshot.hpp"
#include "runtime/io/file_write.hpp"
#include "runtime/native/aggregate_codec.hpp"
#include "runtime/native/image_codec.hpp"
#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sodium.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::compiler::artifact {

namespace {

constexpr std::size_t kPrefixBytes = 4 + 4 + 4;        // magic, format, ABI
constexpr std::size_t kSectionHeaderBytes = 4 + 8 + 8; // id, size, checksum
constexpr std::uint32_t kEd25519 = 1;
constexpr std::size_t kSignatureBytes = 4 + 32 + 64;
constexpr SectionId kSections[] = {SectionId::Header, SectionId::Schema, SectionId::Patterns,
                                   SectionId::Object, SectionId::Bitcode};

std::uint32_t le32(std::string_view b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[at + i])) << (8 * i);
  }
  return v;
}

std::uint64_t le64(std::string_view b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[at + i])) << (8 * i);
  }
  return v;
}

void writeStrings(runtime::SnapshotWriter &w, const std::vector<std::string> &strings) {
  w.u32(static_cast<std::uint32_t>(strings.size()));
  for (const std::string &s : strings) {
    w.str(s);
  }
}

std::vector<std::string> readStrings(runtime::SnapshotReader &r) {
  std::uint64_t n = r.count(r.u32(), 4);
  std::vector<std::string> strings;
  for (std::uint64_t i = 0; i < n; ++i) {
    strings.emplace_back(r.str());
  }
  return strings;
}

std::string encodeHeader(const Header &h) {
  std::string out;
  runtime::SnapshotWriter w(out);
  w.str(h.cep_version);
  writeStrings(w, h.sources);
  w.bytes(h.source_hash.data(), h.source_hash.size());
  w.str(h.target.triple);
  w.str(h.target.cpu);
  writeStrings(w, h.target.features);
  w.u8(h.opt_level);
  writeStrings(w, h.disabled_passes);
  return out;
}

void decodeHeader(std::string_view bytes, Header &h) {
  runtime::SnapshotReader r(bytes, "header section");
  h.cep_version = r.str();
  h.sources = readStrings(r);
  std::string_view hash = r.bytes(h.source_hash.size());
  std::memcpy(h.source_hash.data(), hash.data(), hash.size());
  h.target.triple = r.str();
  h.target.cpu = r.str();
  h.target.features = readStrings(r);
  h.opt_level = r.u8();
  if (h.opt_level > 3) {
    r.fail("opt level " + std::to_string(h.opt_level) + " out of range");
  }
  h.disabled_passes = readStrings(r);
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
}

[[noreturn]] void failWith(const std::string &name, const std::string &why) {
  throw ArtifactError(name + ": " + why);
}

// The signature section's content (cepo.hpp): scheme 1 (Ed25519), public key, signature.
template <typename Fail> Signature decodeSignature(std::string_view content, Fail fail) {
  if (content.size() != kSignatureBytes) {
    fail("corrupt: the signature section has " + std::to_string(content.size()) +
         " bytes, an Ed25519 signature section " + std::to_string(kSignatureBytes));
  }
  if (le32(content, 0) != kEd25519) {
    fail("corrupt: signature scheme " + std::to_string(le32(content, 0)) +
         ", this cep knows scheme 1 (Ed25519)");
  }
  Signature s;
  std::memcpy(s.key.bytes.data(), content.data() + 4, s.key.bytes.size());
  std::memcpy(s.bytes.data(), content.data() + 4 + s.key.bytes.size(), s.bytes.size());
  return s;
}

void appendSection(std::string &out, SectionId id, std::string_view content) {
  runtime::SnapshotWriter w(out);
  w.u32(static_cast<std::uint32_t>(id));
  w.u64(content.size());
  w.u64(runtime::runSnapshotChecksum(content));
  w.bytes(content.data(), content.size());
}

std::string encodeSources(const std::vector<SourceText> &sources) {
  std::string out;
  runtime::SnapshotWriter w(out);
  w.u32(static_cast<std::uint32_t>(sources.size()));
  for (const SourceText &s : sources) {
    w.str(s.name);
    w.str(s.text);
  }
  return out;
}

// The sources section: the files, checked against the header's names and source hash.
std::vector<SourceText> decodeSources(std::string_view bytes, const Header &h) {
  runtime::SnapshotReader r(bytes, "sources section");
  std::uint64_t n = r.count(r.u32(), 8);
  std::vector<SourceText> sources;
  for (std::uint64_t i = 0; i < n; ++i) {
    SourceText s;
    s.name = r.str();
    s.text = r.str();
    sources.push_back(std::move(s));
  }
  if (!r.atEnd()) {
    r.fail("trailing bytes");
  }
  std::vector<std::string> names;
  for (const SourceText &s : sources) {
    names.push_back(s.name);
  }
  if (names != h.sources) {
    r.fail("its files are not the header's sources");
  }
  if (sourceTextHash(sources) != h.source_hash) {
    r.fail("its files do not have the header's source sha256");
  }
  return sources;
}

} // namespace

std::array<std::uint8_t, 32> sourceTextHash(const std::vector<SourceText> &sources) {
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  for (const SourceText &s : sources) {
    std::string prefix;
    runtime::SnapshotWriter w(prefix);
    w.str(s.name);
    w.u64(s.text.size());
    crypto_hash_sha256_update(&sha, reinterpret_cast<const unsigned char *>(prefix.data()),
                              prefix.size());
    crypto_hash_sha256_update(&sha, reinterpret_cast<const unsigned char *>(s.text.data()),
                              s.text.size());
  }
  std::array<std::uint8_t, 32> hash{};
  crypto_hash_sha256_final(&sha, hash.data());
  return hash;
}

const char *sectionName(SectionId id) {
  switch (id) {
  case SectionId::Header:
    return "header";
  case SectionId::Schema:
    return "schema";
  case SectionId::Patterns:
    return "patterns";
  case SectionId::Object:
    return "object";
  case SectionId::Bitcode:
    return "bitcode";
  case SectionId::Signature:
    return "signature";
  case SectionId::Aggregates:
    return "aggregates";
  case SectionId::Sources:
    return "sources";
  }
  return "?";
}

std::string encodeArtifact(const Artifact &a) {
  std::string out;
  runtime::SnapshotWriter w(out);
  w.bytes(kMagic, sizeof kMagic);
  std::uint32_t format = a.sources              ? kFormatVersion
                         : a.aggregates.empty() ? kPatternsOnlyFormatVersion
                                                : kAggregatesFormatVersion;
  w.u32(format);
  w.u32(a.header.abi);
  appendSection(out, SectionId::Header, encodeHeader(a.header));
  appendSection(out, SectionId::Schema, runtime::native::encodeSchema(a.schema));
  appendSection(out, SectionId::Patterns, runtime::native::encodeImages(a.patterns));
  appendSection(out, SectionId::Object, a.object);
  appendSection(out, SectionId::Bitcode, a.bitcode);
  if (format >= kAggregatesFormatVersion) {
    appendSection(out, SectionId::Aggregates, runtime::native::encodeAggregates(a.aggregates));
  }
  if (a.sources) {
    appendSection(out, SectionId::Sources, encodeSources(*a.sources));
  }
  return out;
}

Artifact decodeArtifact(std::string_view in, const std::string &name,
                        const std::vector<PublicKey> *trusted) {
  auto fail = [&name](const std::string &why) { failWith(name, why); };
  if (in.size() < sizeof kMagic || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) {
    fail("not a cep artifact");
  }
  if (in.size() < kPrefixBytes) {
    fail("truncated: " + std::to_string(in.size()) + " bytes, the artifact header alone is " +
         std::to_string(kPrefixBytes));
  }
  Artifact a;
  a.header.format = le32(in, 4);
  if (a.header.format < kOldestFormatVersion || a.header.format > kFormatVersion) {
    fail("artifact format " + std::to_string(a.header.format) + ", this cep reads formats " +
         std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion));
  }
  a.header.abi = le32(in, 8);
  if (a.header.abi != runtime::native::kAbiVersion) {
    fail("built for ABI " + std::to_string(a.header.abi) + ", this cep runs ABI " +
         std::to_string(runtime::native::kAbiVersion) + "; recompile it with cep compile");
  }
  std::size_t pos = kPrefixBytes;
  std::vector<SectionId> expected(std::begin(kSections), std::end(kSections));
  if (a.header.format >= 3) {
    expected.push_back(SectionId::Aggregates);
  }
  if (a.header.format >= 4) {
    expected.push_back(SectionId::Sources);
  }
  std::vector<std::string_view> contents(expected.size());
  std::string_view signature;
  std::size_t signed_bytes = 0; // the bytes before the signature section, when there is one
  std::uint32_t last_optional = static_cast<std::uint32_t>(SectionId::Sources);
  // The required sections in order; then (format 4) optional ones with rising ids above 8;
  // then the signature, if any.
  for (std::size_t i = 0;; ++i) {
    bool required = i < expected.size();
    if (!required && pos == in.size()) {
      break; // not signed
    }
    if (!required && in.size() - pos < kSectionHeaderBytes) {
      fail("corrupt: " + std::to_string(in.size() - pos) + " bytes after the last section");
    }
    std::uint32_t id = required ? static_cast<std::uint32_t>(expected[i]) : le32(in, pos);
    bool optional = !required && a.header.format >= 4 && id > last_optional;
    if (!required && !optional) {
      id = static_cast<std::uint32_t>(SectionId::Signature);
      signed_bytes = pos;
    }
    SectionId want = static_cast<SectionId>(id);
    std::string section = optional ? "optional section " + std::to_string(id)
                                   : std::string("the ") + sectionName(want) + " section";
    std::size_t left = in.size() - pos;
    if (left < kSectionHeaderBytes) {
      fail("truncated: " + section + (left == 0 ? " is missing" : "'s header is cut short"));
    }
    if (le32(in, pos) != id) {
      fail("corrupt: expected " + section + " at byte " + std::to_string(pos) +
           ", found section id " + std::to_string(le32(in, pos)));
    }
    std::uint64_t size = le64(in, pos + 4);
    std::uint64_t checksum = le64(in, pos + 12);
    pos += kSectionHeaderBytes;
    left -= kSectionHeaderBytes;
    if (size > left) {
      fail("truncated: " + section + " needs " + std::to_string(size) + " bytes, " +
           std::to_string(left) + " remain");
    }
    std::string_view content = in.substr(pos, static_cast<std::size_t>(size));
    if (runtime::runSnapshotChecksum(content) != checksum) {
      fail("corrupt: " + section + " fails its checksum");
    }
    pos += static_cast<std::size_t>(size);
    if (required) {
      contents[i] = content;
    } else if (optional) {
      last_optional = id;
      continue; // an optional section of a later cep: skipped (not listed)
    } else {
      signature = content;
      a.sections.push_back({want, size});
      break;
    }
    a.sections.push_back({want, size});
  }
  if (pos != in.size()) {
    fail("corrupt: " + std::to_string(in.size() - pos) + " bytes after the last section");
  }
  if (signed_bytes != 0) {
    a.signature = decodeSignature(signature, fail);
    if (!verifySignature(in.substr(0, signed_bytes), *a.signature)) {
      fail("bad signature (key " + keyId(a.signature->key) +
           "): the artifact was changed after it was signed");
    }
  }
  if (trusted != nullptr) {
    if (!a.signature) {
      fail("not signed; --trust loads only artifacts signed by a trusted key (cep compile --sign)");
    }
    if (std::find(trusted->begin(), trusted->end(), a.signature->key) == trusted->end()) {
      fail("signed by key " + keyId(a.signature->key) + ", which is not trusted (--trust)");
    }
  }
  try {
    decodeHeader(contents[0], a.header);
    a.schema = runtime::native::decodeSchema(contents[1], "schema section");
    a.patterns = runtime::native::decodeImages(contents[2], a.schema, "patterns section");
    if (a.header.format >= 3) {
      a.aggregates = runtime::native::decodeAggregates(contents[5], a.schema, "aggregates section");
    }
    if (a.header.format >= 4) {
      a.sources = decodeSources(contents[6], a.header);
    }
  } catch (const std::runtime_error &e) {
    fail(e.what());
  }
  a.object = std::string(contents[3]);
  a.bitcode = std::string(contents[4]);
  verifyArtifact(a, name);
  return a;
}

std::string readArtifactBytes(const std::string &path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ArtifactError(path + ": is a directory");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    throw ArtifactError(path + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (file.bad()) {
    throw ArtifactError(path + ": cannot read");
  }
  return std::move(bytes).str();
}

Artifact readArtifactFile(const std::string &path, const std::vector<PublicKey> *trusted) {
  return decodeArtifact(readArtifactBytes(path), path, trusted);
}

bool writeArtifactFile(const std::string &path, std::string_view bytes, std::string &error) {
  // A fresh temporary, fsync, rename, and only over a regular file (a FIFO, device, folder or
  // symbolic link at `path` is refused): runtime/io/file_write.hpp.
  return runtime::writeFileAtomically(path, bytes, error);
}

std::string hex(const std::array<std::uint8_t, 32> &hash) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : hash) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

} // namespace cep::compiler::artifact
