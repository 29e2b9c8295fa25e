// Snapshots of a whole run (RunLoop) at a point between two records: everything the driver holds
// (per-input watermarks and read positions, the events buffered for reordering, the arrival
// counter, the record counts, the clock) and each matcher's own snapshot (Matcher::snapshot),
// in a versioned, self-describing binary format that names event types, fields and patterns
// (never their indices), so a snapshot survives recompiling the same rules. Since version 3 it
// also records where the files stood: each input's byte position and file identity, each
// output's length. restoreRun() gives a
// RunLoop that, fed the records after that point, writes exactly what the snapshotted one would
// have written. Checkpoints (RocksDB) and hot-swapped matchers build on this.
//
// Layout (integers little-endian; str = u32 byte length + bytes; blob = u64 length + bytes):
//   "CEPRSNAP" u32 version (kRunSnapshotVersion) u64 total size in bytes (trailer included)
//   options:  u8 time mode (0 event, 1 processing), u8 watermark mode (0 auto, 1 explicit),
//             i64 max delay ms, u8 raw records kept (--with-events),
//             since version 2: i64 time min, i64 time max (--event-time-range), u64 max record
//             bytes, u64 max runs per key, u64 max state bytes (0: none). A version 1 snapshot
//             is still read; these five options are then not checked (it did not record them)
//             since version 4: i64 key TTL ms (--key-ttl; 0: none; taken as 0 from 2 and 3)
//   u32 input count, then per input (in --input order):
//             str name, str bound type name ("": none), i64 watermark, u8 finished,
//             u64 x5 record counts: read accepted rejected late watermarks (read is the read
//             position: the records consumed, which a resumed run skips),
//             u64 line number of the last record read (0: none)
//   u32 next input (round-robin turn), u64 next arrival seq, i64 last clock reading,
//   i64 time the matchers were last advanced to, u8 events released since that advance
//   u64 buffered event count, then per event in release order (time, arrival):
//             str type name, i64 time, u64 seq, u32 input, u32 line, u32 field count, then per
//             field: str name, u8 kind (FieldKind), u8 null, value unless null (bool: u8;
//             int, time, duration: i64; float: f64 bits as u64; string: str); str raw record
//             ("" when not kept) -- the event encoding of the interpreter's snapshots
//   u32 pattern count, then per pattern (declaration order): str name, blob matcher snapshot
//   since version 3, where the files stood (RunIoPositions; informational: restoring checks
//   them against the state, the caller decides what to do with them):
//             u32 input position count (0: not recorded, else the input count), then per
//             input: u64 byte offset (after the last record read), u64 its line (must be the
//             input's line of the last record above), u8 seekable (a regular file), u64 device,
//             u64 inode, u64 head hash, u64 tail hash (runtime/io/file_identity.hpp);
//             u32 output count, then per output (the output, then the side outputs): str name,
//             u64 length (OutputSink::bytesWritten after a flush)
//   since version 5: i64 the latest time of an event dropped because no pattern reads its
//             type (Driver::finish advances time to it at the end; kNoWatermark: none; taken as
//             none from earlier versions)
//   u64 checksum: FNV-1a 64 of every byte before it
// The reorder buffer's watermark is the combined watermark (the minimum over the inputs); the
// combined watermark is recomputed. Output already written is not part of a snapshot: flush the
// OutputSink before persisting one so that the two agree.
#pragma once

#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/io/inputs.hpp"
#include "runtime/matcher.hpp"
#include "runtime/schema.hpp"
#include "runtime/snapshot_codec.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

inline constexpr char kRunSnapshotMagic[8] = {'C', 'E', 'P', 'R', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kRunSnapshotVersion = 5;
inline constexpr std::uint32_t kRunSnapshotOldestVersion = 1; // read, never written

// How long an output was when a snapshot was taken.
struct OutputPosition {
  std::string name;         // OutputSink::name(): "<stdout>" or the path
  std::uint64_t length = 0; // OutputSink::bytesWritten() after a flush
};

// Where a run's files stood at a snapshot (version 3): what a resumed run seeks to, and the
// lengths its outputs had.
//
//   loop.flush();                                        // the lengths are those after a flush
//   RunIoPositions io;
//   for (std::uint32_t i = 0; i < inputs.size(); ++i) io.inputs.push_back(inputs.position(i));
//   io.outputs.push_back({out.name(), out.bytesWritten()});
//   snapshotRun(loop, bytes, io);
struct RunIoPositions {
  std::vector<InputPosition> inputs;   // one per input (--input order), or none: not recorded
  std::vector<OutputPosition> outputs; // the output, then the side outputs; may be empty
};

// Appends the snapshot of `loop` to `out`, with `io` (empty: not recorded). Take it between two
// calls of onRecord / onInputEnd; a run that has stopped (failed, finish() or stop() called) has
// nothing to resume and throws std::runtime_error. `io.inputs`, when given, has one position per
// input whose line is the line of the last record the loop was handed of it.
// One input position in the encoding of version 3 (u64 offset, u64 line, u8 seekable, u64
// device, u64 inode, u64 head hash, u64 tail hash: kInputPositionBytes); also the serve
// checkpoint's (service/serve_checkpoint.hpp).
inline constexpr std::size_t kInputPositionBytes = 8 + 8 + 1 + 8 * 4;
void writeInputPosition(SnapshotWriter &w, const InputPosition &position);
InputPosition readInputPosition(SnapshotReader &r);

// `with_patterns` false: the run without its matchers (pattern count 0), for a caller that
// keeps their state elsewhere (`cep serve --state`: per key, service/serve_checkpoint.hpp) and
// restores it with restoreRun(..., {} matchers, ...) and then adds the operators itself.
void snapshotRun(const RunLoop &loop, std::string &out, const RunIoPositions &io = {},
                 bool with_patterns = true);

// The RunLoop `snapshot` was taken of, continuing where it was. The arguments are the RunLoop
// constructor's and must describe the same run: the same Schema (types and fields matched by
// name), fresh matchers of the same patterns (matched by name: every pattern exactly once), the
// same inputs (names, bound types) and the same options that change results (time mode,
// watermark mode, max delay, raw records, event-time range, max record bytes, state bounds). A bad
// or incompatible snapshot throws std::runtime_error("bad run snapshot: <reason>") and never leaves
// a RunLoop; the matchers may then hold part of the state and must be thrown away. The caller
// resumes reading at loop->position() (records), or at `io`'s byte positions when the snapshot
// recorded them (`*io` is then filled; left empty for versions 1 and 2).
std::unique_ptr<RunLoop> restoreRun(std::string_view snapshot, const Schema &schema,
                                    std::vector<Matcher *> matchers,
                                    std::vector<std::string> input_names,
                                    std::vector<std::int32_t> bound_types, OutputSink &out,
                                    const RunOptions &options, RunIoPositions *io = nullptr);

// FNV-1a 64 of `bytes`. A snapshot ends with this of everything before it.
std::uint64_t runSnapshotChecksum(std::string_view bytes);

} // namespace cep::runtime
