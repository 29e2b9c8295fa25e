// The client side of the admin endpoint over plain POSIX sockets: no httplib here, so the `cep`
// command does not load it (nor OpenSSL, which Debian's libcpp-httplib.so pulls in and
// initialises: ~15 ms more at every start of every `cep` process).
#include "service/admin_client.hpp"

#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cep::service {

namespace {

std::string firstLine(std::string_view text) {
  std::size_t end = text.find('\n');
  std::string line(text.substr(0, end == std::string_view::npos ? text.size() : end));
  if (line.size() > 300) {
    line.resize(300);
    line += "...";
  }
  return line;
}

// The Content-Length of a response head (status line and headers, without the blank line).
std::optional<std::size_t> contentLength(std::string_view head) {
  std::size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string_view::npos) {
    at += 2;
    std::string_view line = head.substr(at, head.find("\r\n", at) - at);
    constexpr std::string_view kName = "content-length:";
    if (line.size() > kName.size()) {
      bool match = true;
      for (std::size_t i = 0; match && i < kName.size(); ++i) {
        match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
      }
      if (match) {
        std::string_view value = line.substr(kName.size());
        while (!value.empty() && value.front() == ' ') {
          value.remove_prefix(1);
        }
        std::size_t n = 0;
        auto r = std::from_chars(value.data(), value.data() + value.size(), n);
        if (r.ec == std::errc()) {
          return n;
        }
      }
    }
  }
  return std::nullopt;
}

// One HTTP/1.1 exchange over a plain socket: the request with `Connection: close`, then the
// response read to its Content-Length or to the end of the connection. On failure `error` says
// why in one line and the result is false.
struct RawResponse {
  int status = 0;
  std::string body;
};

class Socket {
public:
  ~Socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int fd() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

// Connects to the first address of `server` that accepts within the timeout.
bool connectTo(Socket &sock, const AdminClientOptions &options, std::string &error) {
  const Endpoint &server = options.server;
  const std::string where = formatEndpoint(server);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *found = nullptr;
  const std::string port = std::to_string(server.port);
  if (int rc = ::getaddrinfo(server.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve `" + server.host + "`: " + ::gai_strerror(rc);
    return false;
  }
  bool timed_out = false;
  for (addrinfo *ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      continue;
    }
    sock.reset(fd);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      rc = ::poll(&pfd, 1, options.connect_timeout_seconds * 1000);
      if (rc == 0) {
        timed_out = true;
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = (rc > 0 && so_error == 0) ? 0 : -1;
    }
    if (rc == 0) {
      int flags = ::fcntl(fd, F_GETFL);
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      timeval tv{options.read_timeout_seconds, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      ::freeaddrinfo(found);
      return true;
    }
  }
  ::freeaddrinfo(found);
  error = timed_out
              ? "no answer from " + where + " while connecting (timed out)"
              : "cannot connect to " + where + " (is `cep serve --admin " + where + "` running?)";
  return false;
}

// Parses the status line and headers; the body is what follows, cut to Content-Length.
bool parseResponse(const std::string &raw, RawResponse &out) {
  std::size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || !raw.starts_with("HTTP/1.") || raw.size() < 12 ||
      raw[8] != ' ') {
    return false;
  }
  int status = 0;
  auto r = std::from_chars(raw.data() + 9, raw.data() + 12, status);
  if (r.ec != std::errc() || r.ptr != raw.data() + 12 || status < 100) {
    return false;
  }
  out.status = status;
  out.body = raw.substr(head_end + 4);
  std::optional<std::size_t> length = contentLength(std::string_view(raw).substr(0, head_end));
  if (length && out.body.size() > *length) {
    out.body.resize(*length);
  }
  return true;
}

bool exchange(const AdminClientOptions &options, std::string_view method, std::string_view target,
              std::string_view body, RawResponse &response, std::string &error) {
  Socket sock;
  if (!connectTo(sock, options, error)) {
    return false;
  }
  const std::string where = formatEndpoint(options.server);
  std::string head;
  head.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  head += "Host: " + where + "\r\n";
  head += "User-Agent: cep\r\nAccept: application/json\r\nConnection: close\r\n";
  if (options.token) {
    head += "Authorization: Bearer " + *options.token + "\r\n";
  }
  if (method == "POST") {
    head += "Content-Type: application/octet-stream\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  head += "\r\n";
  // Send; a server that answers early (413) and closes may cut the body short: still read what
  // it said.
  bool sent = true;
  for (std::string_view part : {std::string_view(head), body}) {
    std::size_t done = 0;
    while (sent && done < part.size()) {
      ssize_t n = ::send(sock.fd(), part.data() + done, part.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        sent = false;
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  std::string raw;
  char buf[16384];
  bool complete = false;
  while (!complete) {
    ssize_t n = ::recv(sock.fd(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
    std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::optional<std::size_t> length = contentLength(std::string_view(raw).substr(0, head_end));
      complete = length && raw.size() - head_end - 4 >= *length;
    }
  }
  if (!parseResponse(raw, response)) {
    error = !sent && raw.empty()
                ? "the connection to " + where + " broke while sending the request"
                : "the connection to " + where + " broke or timed out before the answer";
    return false;
  }
  return true;
}

} // namespace

std::string AdminReply::reason() const {
  if (status == 0) {
    return transport_error.empty() ? std::string("no answer") : transport_error;
  }
  std::string text = "HTTP " + std::to_string(status);
  if (std::optional<std::string> message = errorMessageOf(body)) {
    return text + ": " + *message;
  }
  std::string line = firstLine(body);
  return line.empty() ? text : text + ": " + line;
}

std::vector<std::string> AdminReply::reasons() const {
  return status == 0 ? std::vector<std::string>{} : errorReasonsOf(body);
}

AdminReply adminRequest(const AdminClientOptions &options, std::string_view method,
                        std::string_view target, std::string_view body) {
  AdminReply reply;
  RawResponse response;
  if (!exchange(options, method, target, body, response, reply.transport_error)) {
    return reply;
  }
  reply.status = response.status;
  reply.body = std::move(response.body);
  return reply;
}

std::string encodeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> errorReasonsOf(std::string_view json) {
  std::vector<std::string> out;
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array reasons;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS ||
      doc["reasons"].get(reasons) != simdjson::SUCCESS) {
    return out;
  }
  for (simdjson::dom::element reason : reasons) {
    std::string_view text;
    if (reason.get(text) == simdjson::SUCCESS) {
      out.emplace_back(text);
    }
  }
  return out;
}

std::optional<std::string> errorMessageOf(std::string_view json) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::string_view message;
  if (doc["error"].get(message) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return std::string(message);
}

bool parsePatterns(std::string_view json, std::vector<PatternInfo> &out, std::string &error) {
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  if (parser.parse(padded).get(rows) != simdjson::SUCCESS) {
    error = "the server's /patterns answer is not a JSON array";
    return false;
  }
  std::size_t index = 0;
  for (simdjson::dom::element row : rows) {
    ++index;
    PatternInfo p;
    std::string_view text;
    std::string_view loaded_at;
    bool ok = row["name"].get(text) == simdjson::SUCCESS && (p.name = text, true) &&
              row["version"].get(text) == simdjson::SUCCESS && (p.version = text, true) &&
              row["artifact_hash"].get(text) == simdjson::SUCCESS &&
              (p.artifact_hash = text, true) && row["state"].get(text) == simdjson::SUCCESS &&
              (p.state = text, true) && row["loaded_at"].get(loaded_at) == simdjson::SUCCESS &&
              runtime::parseRfc3339(loaded_at, p.loaded_at) &&
              row["live_runs"].get(p.live_runs) == simdjson::SUCCESS &&
              row["keys"].get(p.keys) == simdjson::SUCCESS &&
              row["matches"].get(p.matches) == simdjson::SUCCESS &&
              row["timeouts"].get(p.timeouts) == simdjson::SUCCESS &&
              row["state_bytes"].get(p.state_bytes) == simdjson::SUCCESS;
    if (!ok) {
      error = "the server's /patterns answer: entry " + std::to_string(index) +
              " lacks a field or has one of the wrong type";
      return false;
    }
    out.push_back(std::move(p));
  }
  return true;
}

std::string formatPatternTable(const std::vector<PatternInfo> &patterns) {
  if (patterns.empty()) {
    return "no patterns loaded\n";
  }
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"PATTERN", "VERSION", "STATE", "LOADED", "LIVE RUNS", "KEYS", "MATCHES",
                   "TIMEOUTS", "STATE BYTES"});
  for (const PatternInfo &p : patterns) {
    cells.push_back({p.name, p.version, p.state, runtime::formatRfc3339(p.loaded_at),
                     std::to_string(p.live_runs), std::to_string(p.keys), std::to_string(p.matches),
                     std::to_string(p.timeouts), std::to_string(p.state_bytes)});
  }
  const std::size_t columns = cells[0].size();
  std::vector<std::size_t> width(columns, 0);
  for (const auto &row : cells) {
    for (std::size_t c = 0; c < columns; ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto &row : cells) {
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      const bool numeric = c >= 4; // counts align right, words left
      std::string pad(width[c] - row[c].size(), ' ');
      if (c > 0) {
        line += "  ";
      }
      line += numeric ? pad + row[c] : row[c] + (c + 1 < columns ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  }
  return out;
}

} // namespace cep::service
