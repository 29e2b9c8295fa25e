// What the admin server and its clients share without HTTP: the `HOST:PORT` address, whether a
// host is loopback, the bearer token file, and the token comparison.
//
// Example:
//   std::string error;
//   auto ep = parseEndpoint("127.0.0.1:7077", error);   // {host "127.0.0.1", port 7077}
//   parseEndpoint("[::1]:0", error);                       // {host "::1", port 0}: ephemeral
//   parseEndpoint("localhost", error);                     // nullopt, error "... HOST:PORT ..."
//   isLoopbackHost("127.0.0.5") == true; isLoopbackHost("0.0.0.0") == false;
//   std::string token = readTokenFile("admin.token");    // throws TokenFileError
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cep::service {

struct Endpoint {
  std::string host; // without brackets for IPv6
  int port = 0;     // 0..65535; 0 = any free port (a server only)
};

// `HOST:PORT` or `[IPV6]:PORT`; HOST is a name or an address, PORT decimal 0..65535. nullopt with
// a one-line reason in `error` otherwise.
std::optional<Endpoint> parseEndpoint(std::string_view text, std::string &error);
// `HOST:PORT` again, with brackets around an IPv6 address.
std::string formatEndpoint(const Endpoint &endpoint);

// True for `localhost`, 127.0.0.0/8 and ::1 (what only this machine can reach). Anything else,
// including 0.0.0.0, ::, and names, is not loopback.
bool isLoopbackHost(std::string_view host);

struct TokenFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The token in `path`: its content with leading and trailing whitespace removed. Throws
// TokenFileError (`token file "F": <reason>`) when the file cannot be read, is larger than 4 KiB,
// or the token is empty or has a character outside visible ASCII (0x21-0x7e). The message never
// contains the token.
std::string readTokenFile(const std::string &path);

// Compares in a time that depends only on the lengths (never on where the first difference is).
bool constantTimeEqual(std::string_view a, std::string_view b);

} // namespace cep::service
