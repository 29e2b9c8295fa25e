// The client side of the admin endpoint (admin_server.hpp), for `cep deploy`, `cep undeploy` and
// `cep status`: one HTTP request, and reading the JSON that comes back. No CLI code here.
//
// Example:
//   AdminClientOptions options;
//   options.server = *parseEndpoint("127.0.0.1:7077", error);
//   options.token = readTokenFile("admin.token");            // optional
//   AdminReply r = adminRequest(options, "POST", "/deploy?mode=keep", cepo_bytes);
//   if (!r.ok()) std::cerr << "cep deploy: " << r.reason() << '\n';  // exit 3
//   std::vector<PatternInfo> rows;
//   if (parsePatterns(adminRequest(options, "GET", "/patterns").body, rows, error))
//     std::cout << formatPatternTable(rows);
#pragma once

#include "service/control.hpp"
#include "service/endpoint.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::service {

struct AdminClientOptions {
  Endpoint server;
  std::optional<std::string> token; // sent as `Authorization: Bearer <token>`
  int connect_timeout_seconds = 5;
  int read_timeout_seconds = 120; // a deploy may compile bitcode before it answers
};

struct AdminReply {
  int status = 0;              // the HTTP status; 0: no answer (see transport_error)
  std::string body;            // the response body
  std::string transport_error; // why there was no answer (cannot connect, timeout, ...)

  bool ok() const { return status >= 200 && status < 300; }
  // One line saying why the request failed: the transport error, or `HTTP <status>: <the
  // server's "error" text>` (the body's first line when it is not an error object).
  std::string reason() const;
  // The error body's `"reasons"` (a refused deploy lists every one), empty when none.
  std::vector<std::string> reasons() const;
};

// One request (`target` is the path and query, already percent-encoded). Never throws.
AdminReply adminRequest(const AdminClientOptions &options, std::string_view method,
                        std::string_view target, std::string_view body = {});

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string encodeQueryValue(std::string_view value);

// The `"error"` member of a JSON object body; nullopt when the body is not such an object.
std::optional<std::string> errorMessageOf(std::string_view json);
std::vector<std::string> errorReasonsOf(std::string_view json); // `"reasons"` of an error body

// Reads `GET /patterns`' JSON array; false with a reason when it is not one.
bool parsePatterns(std::string_view json, std::vector<PatternInfo> &out, std::string &error);

// `cep status`'s table: a header line and one line per pattern, columns aligned; `loaded_at` as
// RFC 3339 UTC; "no patterns loaded" when there are none.
std::string formatPatternTable(const std::vector<PatternInfo> &patterns);

} // namespace cep::service
