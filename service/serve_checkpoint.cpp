// CEPSMETA: the meta record of a `cep serve --state` checkpoint (serve_checkpoint.hpp).
#include "service/serve_checkpoint.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/snapshot_codec.hpp"
#include "support/fnv1a.hpp"

#include <stdexcept>

namespace cep::service {

namespace {

constexpr std::size_t kChecksumBytes = 8;

[[noreturn]] void fail(const std::string &why) {
  throw std::runtime_error("bad serve checkpoint: " + why);
}

} // namespace

void encodeServeMeta(const ServeMeta &meta, std::string &out) {
  std::size_t begin = out.size();
  runtime::SnapshotWriter w(out);
  w.bytes(kServeMetaMagic, sizeof kServeMetaMagic);
  // The lowest version that holds the record (a file-only server writes what it always has).
  const std::uint32_t version = !meta.sections.empty() ? kServeMetaVersion
                                : meta.kafka           ? kServeMetaVersionKafka
                                                       : kServeMetaVersionPlain;
  w.u32(version);
  w.i64(meta.taken_at);
  w.u32(meta.next_operator_id);
  w.u32(static_cast<std::uint32_t>(meta.schema.types.size()));
  for (const runtime::EventSchema &type : meta.schema.types) {
    w.str(type.name);
    w.u32(static_cast<std::uint32_t>(type.time_field));
    w.u32(static_cast<std::uint32_t>(type.fields.size()));
    for (const runtime::FieldSchema &field : type.fields) {
      w.str(field.name);
      w.u8(static_cast<std::uint8_t>(field.kind));
      w.u8(field.nullable ? 1 : 0);
    }
  }
  w.blob(meta.run);
  w.u32(static_cast<std::uint32_t>(meta.served.size()));
  for (const ServedState &s : meta.served) {
    w.u32(s.operator_id);
    w.str(s.pattern);
    w.str(s.version);
    w.str(s.artifact_hash);
    w.i64(s.loaded_at);
    w.u8(s.draining ? 1 : 0);
    w.u64(s.matches_base);
    w.u64(s.timeouts_base);
    w.blob(s.matcher_header);
  }
  w.u32(static_cast<std::uint32_t>(meta.inputs.size()));
  for (const InputMark &input : meta.inputs) {
    w.str(input.name);
    runtime::writeInputPosition(w, input.position);
  }
  w.u32(static_cast<std::uint32_t>(meta.outputs.size()));
  for (const OutputMark &output : meta.outputs) {
    w.str(output.role);
    w.str(output.path);
    w.u64(output.length);
  }
  if (version >= kServeMetaVersionKafka) {
    w.u8(meta.kafka ? 1 : 0);
    if (meta.kafka) {
      const KafkaMeta &k = *meta.kafka;
      w.u32(static_cast<std::uint32_t>(k.inputs.size()));
      for (const KafkaTopicMark &topic : k.inputs) {
        w.str(topic.topic);
        w.str(topic.group);
        w.str(topic.cluster);
        w.u32(topic.partitions);
        w.u32(static_cast<std::uint32_t>(topic.next_offsets.size()));
        for (const auto &[partition, offset] : topic.next_offsets) {
          w.u32(static_cast<std::uint32_t>(partition));
          w.i64(offset);
        }
      }
      w.u32(static_cast<std::uint32_t>(k.outputs.size()));
      for (const KafkaOutputMark &output : k.outputs) {
        w.str(output.role);
        w.str(output.url);
      }
      w.str(k.transactional_id);
      w.str(k.transaction);
      w.u8(static_cast<std::uint8_t>(k.state));
    }
  }
  if (version >= kServeMetaVersion) {
    w.u32(static_cast<std::uint32_t>(meta.sections.size()));
    for (const auto &[name, bytes] : meta.sections) {
      w.str(name);
      w.blob(bytes);
    }
  }
  w.u64(fnv1a64(std::string_view(out).substr(begin)));
}

ServeMeta decodeServeMeta(std::string_view in) {
  if (in.size() < sizeof kServeMetaMagic + 4 + kChecksumBytes) {
    fail("too short (" + std::to_string(in.size()) + " bytes)");
  }
  if (in.substr(0, sizeof kServeMetaMagic) !=
      std::string_view(kServeMetaMagic, sizeof kServeMetaMagic)) {
    fail("not a serve checkpoint");
  }
  std::string_view body = in.substr(0, in.size() - kChecksumBytes);
  runtime::SnapshotReader trailer(in.substr(body.size()), "serve checkpoint");
  if (trailer.u64() != fnv1a64(body)) {
    fail("checksum mismatch (corrupted)");
  }
  ServeMeta meta;
  { // the reader's own errors say "bad serve checkpoint: ..." too
    runtime::SnapshotReader r(body, "serve checkpoint");
    r.skip(sizeof kServeMetaMagic);
    std::uint32_t version = r.u32();
    if (version != kServeMetaVersionPlain && version != kServeMetaVersionKafka &&
        version != kServeMetaVersion) {
      fail("format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kServeMetaVersion) + ")");
    }
    meta.taken_at = r.i64();
    meta.next_operator_id = r.u32();
    std::uint64_t types = r.count(r.u32(), 4 + 4 + 4);
    for (std::uint64_t t = 0; t < types; ++t) {
      runtime::EventSchema &type = meta.schema.types.emplace_back();
      type.name = std::string(r.str());
      type.time_field = static_cast<std::int32_t>(r.u32());
      std::uint64_t fields = r.count(r.u32(), 4 + 1 + 1);
      if (type.time_field < -1 || type.time_field >= static_cast<std::int64_t>(fields)) {
        fail("type `" + type.name + "` has time field " + std::to_string(type.time_field) + " of " +
             std::to_string(fields));
      }
      for (std::uint64_t f = 0; f < fields; ++f) {
        runtime::FieldSchema &field = type.fields.emplace_back();
        field.name = std::string(r.str());
        std::uint8_t kind = r.u8();
        if (kind > static_cast<std::uint8_t>(runtime::FieldKind::Duration)) {
          fail("field `" + type.name + "." + field.name + "` has an unknown kind");
        }
        field.kind = static_cast<runtime::FieldKind>(kind);
        field.nullable = r.flag("a nullable flag");
      }
    }
    meta.run = std::string(r.blob());
    std::uint64_t served = r.count(r.u32(), 4 + 4 * 3 + 8 + 1 + 16 + 8);
    for (std::uint64_t i = 0; i < served; ++i) {
      ServedState &s = meta.served.emplace_back();
      s.operator_id = r.u32();
      s.pattern = std::string(r.str());
      s.version = std::string(r.str());
      s.artifact_hash = std::string(r.str());
      s.loaded_at = r.i64();
      s.draining = r.flag("a draining flag");
      s.matches_base = r.u64();
      s.timeouts_base = r.u64();
      s.matcher_header = std::string(r.blob());
      if (s.operator_id >= meta.next_operator_id) {
        fail("operator id " + std::to_string(s.operator_id) + " is not below the next one, " +
             std::to_string(meta.next_operator_id));
      }
      if (i > 0 && meta.served[i - 1].operator_id >= s.operator_id) {
        fail("served patterns out of operator id order");
      }
    }
    std::uint64_t inputs = r.count(r.u32(), 4 + runtime::kInputPositionBytes);
    for (std::uint64_t i = 0; i < inputs; ++i) {
      InputMark &input = meta.inputs.emplace_back();
      input.name = std::string(r.str());
      input.position = runtime::readInputPosition(r);
    }
    std::uint64_t outputs = r.count(r.u32(), 4 + 4 + 8);
    for (std::uint64_t i = 0; i < outputs; ++i) {
      OutputMark &output = meta.outputs.emplace_back();
      output.role = std::string(r.str());
      output.path = std::string(r.str());
      output.length = r.u64();
    }
    if (version >= 2 && r.flag("a Kafka flag")) {
      KafkaMeta &k = meta.kafka.emplace();
      std::uint64_t topics = r.count(r.u32(), 4 * 3 + 4 + 4);
      for (std::uint64_t t = 0; t < topics; ++t) {
        KafkaTopicMark &topic = k.inputs.emplace_back();
        topic.topic = std::string(r.str());
        topic.group = std::string(r.str());
        topic.cluster = std::string(r.str());
        topic.partitions = r.u32();
        std::uint64_t positions = r.count(r.u32(), 4 + 8);
        for (std::uint64_t p = 0; p < positions; ++p) {
          auto partition = static_cast<std::int32_t>(r.u32());
          std::int64_t offset = r.i64();
          if (partition < 0 || static_cast<std::uint32_t>(partition) >= topic.partitions ||
              offset < 0) {
            fail("topic " + topic.topic + " has the position " + std::to_string(offset) +
                 " of partition " + std::to_string(partition) + " of " +
                 std::to_string(topic.partitions));
          }
          topic.next_offsets.emplace_back(partition, offset);
        }
      }
      std::uint64_t outputs_k = r.count(r.u32(), 4 + 4);
      for (std::uint64_t i = 0; i < outputs_k; ++i) {
        KafkaOutputMark &output = k.outputs.emplace_back();
        output.role = std::string(r.str());
        output.url = std::string(r.str());
      }
      k.transactional_id = std::string(r.str());
      k.transaction = std::string(r.str());
      std::uint8_t state = r.u8();
      if (state > static_cast<std::uint8_t>(KafkaTxnState::Committed)) {
        fail("an unknown Kafka transaction state " + std::to_string(state));
      }
      k.state = static_cast<KafkaTxnState>(state);
    }
    if (version >= kServeMetaVersion) {
      std::uint64_t sections = r.count(r.u32(), 4 + 8);
      for (std::uint64_t i = 0; i < sections; ++i) {
        std::string name(r.str());
        std::string bytes(r.blob());
        if (meta.section(name) != nullptr) {
          fail("section \"" + name + "\" twice");
        }
        meta.sections.emplace_back(std::move(name), std::move(bytes));
      }
    }
    if (!r.atEnd()) {
      fail(version >= kServeMetaVersion ? "bytes after the last section"
                                        : "bytes after the last output");
    }
  }
  return meta;
}

} // namespace cep::service
