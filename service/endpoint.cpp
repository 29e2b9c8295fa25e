#include "service/endpoint.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

namespace cep::service {

std::optional<Endpoint> parseEndpoint(std::string_view text, std::string &error) {
  std::string shown = "`"; // appended, not `"`" + ... + "`"`: GCC 12 -O3 warns (-Wrestrict)
  shown.append(text);
  shown += '`';
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "bad address " + shown + ": expected [IPV6]:PORT";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    in6_addr addr6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &addr6) != 1) {
      error = "bad address " + shown + ": `" + std::string(host) + "` is not an IPv6 address";
      return std::nullopt;
    }
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "bad address " + shown + ": expected HOST:PORT (e.g. 127.0.0.1:7077)";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "bad address " + shown + ": write an IPv6 address in brackets, [::1]:PORT";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    error = "bad address " + shown + ": no host before the port";
    return std::nullopt;
  }
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) {
      error = "bad address " + shown + ": the host has a character a host name cannot have";
      return std::nullopt;
    }
  }
  int value = -1;
  auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value < 0 ||
      value > 65535) {
    error = "bad address " + shown + ": the port must be a number from 0 to 65535";
    return std::nullopt;
  }
  return Endpoint{std::string(host), value};
}

std::string formatEndpoint(const Endpoint &endpoint) {
  if (endpoint.host.find(':') != std::string::npos) {
    return "[" + endpoint.host + "]:" + std::to_string(endpoint.port);
  }
  return endpoint.host + ":" + std::to_string(endpoint.port);
}

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost") {
    return true;
  }
  std::string h(host);
  in_addr addr4{};
  if (inet_pton(AF_INET, h.c_str(), &addr4) == 1) {
    return (ntohl(addr4.s_addr) >> 24) == 127;
  }
  in6_addr addr6{};
  if (inet_pton(AF_INET6, h.c_str(), &addr6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&addr6);
  }
  return false;
}

std::string readTokenFile(const std::string &path) {
  const std::string where = "token file \"" + path + "\": ";
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw TokenFileError(where + (errno ? std::strerror(errno) : "cannot be opened"));
  }
  constexpr std::size_t kMax = 4096;
  std::string content;
  content.resize(kMax + 1);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) {
    throw TokenFileError(where + "cannot be read");
  }
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > kMax) {
    throw TokenFileError(where + "larger than 4096 bytes; it must hold only the token");
  }
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  std::size_t b = 0;
  std::size_t e = content.size();
  while (b < e && space(content[b])) {
    ++b;
  }
  while (e > b && space(content[e - 1])) {
    --e;
  }
  std::string token = content.substr(b, e - b);
  if (token.empty()) {
    throw TokenFileError(where + "empty (it must hold the token)");
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      throw TokenFileError(where + "the token has a space or a character outside visible ASCII");
    }
  }
  return token;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  // Walk the expected length whatever the other one is; differences accumulate without branches.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff = diff | (x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

} // namespace cep::service
