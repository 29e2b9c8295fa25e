// `cep lsp`'s wire (cli/lsp_protocol.hpp): framing, file URIs, LSP positions in UTF-16 units.
#include "cli/lsp_protocol.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace cep::cli::lsp;

TEST_CASE("lsp positions count lines from 0 and characters in UTF-16 units", "[lsp]") {
  // `é` is 2 bytes and one unit; U+1F600 is 4 bytes and two units (a surrogate pair).
  std::string text = "ab\n\xC3\xA9x\n\xF0\x9F\x98\x80y";
  CHECK(positionOf(text, 0).line == 0);
  CHECK(positionOf(text, 1).character == 1);
  Position x = positionOf(text, 5); // after `é`
  CHECK(x.line == 1);
  CHECK(x.character == 1);
  Position y = positionOf(text, 11); // after the emoji
  CHECK(y.line == 2);
  CHECK(y.character == 2);
  CHECK(offsetOf(text, {1, 1}) == 5);
  CHECK(offsetOf(text, {2, 2}) == 11);
  CHECK(offsetOf(text, {0, 99}) == 2); // clamped to the line's end
  CHECK(offsetOf(text, {9, 0}) == text.size());
  CHECK(rangeJson(text, 3, 5) ==
        R"("range":{"start":{"line":1,"character":0},"end":{"line":1,"character":1}})");
}

TEST_CASE("lsp file URIs are percent-decoded and encoded", "[lsp]") {
  CHECK(uriToPath("file:///a/b%20c.cep") == "/a/b c.cep");
  CHECK(uriToPath("file://localhost/a.cep") == "/a.cep");
  CHECK(!uriToPath("untitled:Untitled-1").has_value());
  CHECK(pathToUri("/a/b c.cep") == "file:///a/b%20c.cep");
  CHECK(uriToPath(pathToUri("/x/\xC3\xA9 #1.cep")) == "/x/\xC3\xA9 #1.cep");
}

TEST_CASE("lsp frames are read by Content-Length, bad headers reported", "[lsp]") {
  std::istringstream in("Content-Length: 2\r\nContent-Type: x\r\n\r\n{}"
                        "Content-Length: zz\r\n\r\n"
                        "Content-Length: 5\r\n\r\n{}");
  auto first = readFrame(in);
  REQUIRE(first);
  CHECK(first->error.empty());
  CHECK(first->body == "{}");
  auto bad = readFrame(in);
  REQUIRE(bad);
  CHECK(bad->error.find("bad Content-Length") != std::string::npos);
  auto cut = readFrame(in);
  REQUIRE(cut);
  CHECK(cut->error.find("ended inside a message") != std::string::npos);
  CHECK(!readFrame(in));
  std::ostringstream out;
  writeFrame(out, "{}");
  CHECK(out.str() == "Content-Length: 2\r\n\r\n{}");
}
