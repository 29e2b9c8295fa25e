#include "cli/lsp_protocol.hpp"

#include <cctype>
#include <limits>

namespace cep::cli::lsp {

namespace {

// The most a message body may hold (64 MiB): a bigger Content-Length is refused, not allocated.
constexpr std::size_t kMaxBody = std::size_t{64} << 20;

// Bytes in the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
std::uint32_t sequenceLength(unsigned char lead) {
  return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

} // namespace

std::optional<Frame> readFrame(std::istream &in) {
  Frame frame;
  std::optional<std::size_t> length;
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    any = true;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      break;
    }
    std::size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char &c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (colon == std::string::npos) {
      frame.error = "a header line without `:`: `" + line + "`";
      continue;
    }
    if (name == "content-length") {
      std::string value = line.substr(colon + 1);
      std::size_t n = 0, digits = 0;
      bool ok = true;
      for (char c : value) {
        if (c == ' ' || c == '\t') {
          continue;
        }
        if (c < '0' || c > '9' || n > kMaxBody) {
          ok = false;
          break;
        }
        n = n * 10 + static_cast<std::size_t>(c - '0');
        ++digits;
      }
      if (!ok || digits == 0 || n > kMaxBody) {
        frame.error = "a bad Content-Length `" + value + "` (a number of bytes, at most 64 MiB)";
      } else {
        length = n;
      }
    }
  }
  if (!any) {
    return std::nullopt;
  }
  if (!length) {
    if (frame.error.empty()) {
      frame.error = "a message without a Content-Length header";
    }
    return frame;
  }
  frame.body.resize(*length);
  in.read(frame.body.data(), static_cast<std::streamsize>(*length));
  if (static_cast<std::size_t>(in.gcount()) != *length) {
    frame.error = "the input ended inside a message (" + std::to_string(in.gcount()) + " of " +
                  std::to_string(*length) + " bytes)";
    frame.body.clear();
  }
  return frame;
}

void writeFrame(std::ostream &out, std::string_view body) {
  out << "Content-Length: " << body.size() << "\r\n\r\n" << body;
  out.flush();
}

std::optional<std::string> uriToPath(std::string_view uri) {
  constexpr std::string_view scheme = "file://";
  if (uri.substr(0, scheme.size()) != scheme) {
    return std::nullopt;
  }
  uri.remove_prefix(scheme.size());
  std::size_t slash = uri.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  uri.remove_prefix(slash); // an authority (`localhost`) is dropped
  std::string path;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    auto hex = [](char c) -> int {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    if (uri[i] == '%' && i + 2 < uri.size() && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      path += static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2]));
      i += 2;
    } else {
      path += uri[i];
    }
  }
  return path;
}

std::string pathToUri(std::string_view path) {
  static const char *digits = "0123456789ABCDEF";
  std::string uri = "file://";
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += c;
    } else {
      uri += '%';
      uri += digits[u >> 4];
      uri += digits[u & 15];
    }
  }
  return uri;
}

Position positionOf(std::string_view text, std::uint32_t offset) {
  Position p;
  std::size_t end = std::min<std::size_t>(offset, text.size());
  for (std::size_t i = 0; i < end;) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.character = 0;
      ++i;
      continue;
    }
    std::uint32_t n = sequenceLength(c);
    p.character += n == 4 ? 2 : 1; // outside the BMP: a surrogate pair
    i += n;
  }
  return p;
}

std::uint32_t offsetOf(std::string_view text, Position position) {
  std::size_t i = 0;
  for (std::uint32_t line = 0; line < position.line && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
    }
  }
  for (std::uint32_t units = 0; units < position.character && i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      break;
    }
    std::uint32_t n = sequenceLength(c);
    units += n == 4 ? 2 : 1;
    i += n;
  }
  return static_cast<std::uint32_t>(std::min(i, text.size()));
}

std::string rangeJson(std::string_view text, std::uint32_t begin, std::uint32_t end) {
  Position b = positionOf(text, begin), e = positionOf(text, end);
  return "\"range\":{\"start\":{\"line\":" + std::to_string(b.line) +
         ",\"character\":" + std::to_string(b.character) +
         "},\"end\":{\"line\":" + std::to_string(e.line) +
         ",\"character\":" + std::to_string(e.character) + "}}";
}

} // namespace cep::cli::lsp
