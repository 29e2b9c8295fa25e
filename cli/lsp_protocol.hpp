// `cep lsp`'s wire: JSON-RPC 2.0 messages framed by `Content-Length` headers (the Language Server
// Protocol's base protocol), file:// URIs, and LSP positions (0-based line, UTF-16 code units)
// converted from and to byte offsets of a source text.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace cep::cli::lsp {

// One message's body, or nothing at the end of the input. A header block without a usable
// `Content-Length` sets `error` and returns an empty body (the caller logs it and reads on).
struct Frame {
  std::string body;
  std::string error;
};
std::optional<Frame> readFrame(std::istream &in);
void writeFrame(std::ostream &out, std::string_view body);

// file:///a/b%20c.cep -> /a/b c.cep; nothing for another scheme.
std::optional<std::string> uriToPath(std::string_view uri);
std::string pathToUri(std::string_view path);

struct Position {
  std::uint32_t line = 0;      // 0-based
  std::uint32_t character = 0; // 0-based, UTF-16 code units
};
Position positionOf(std::string_view text, std::uint32_t offset);
// The byte offset of a position (clamped to the line's end and the text's end).
std::uint32_t offsetOf(std::string_view text, Position position);

// `"range":{"start":{...},"end":{...}}` members for [begin, end) of `text`.
std::string rangeJson(std::string_view text, std::uint32_t begin, std::uint32_t end);

} // namespace cep::cli::lsp
