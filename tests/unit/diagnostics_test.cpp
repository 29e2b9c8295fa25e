#include "lang/diagnostics.hpp"
#include "lang/source.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace cep::lang;

namespace {
SourceRange rangeOf(const SourceManager &sm, FileId id, std::string_view needle) {
  auto pos = sm.file(id).text().find(needle);
  REQUIRE(pos != std::string::npos);
  return {id, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(pos + needle.size())};
}
} // namespace

TEST_CASE("line and column are 1-based and count code points", "[source]") {
  SourceManager sm;
  FileId id = sm.add("a.cep", "ab\n\xC3\xA9x\r\nlast");
  const auto &f = sm.file(id);
  CHECK(f.lineCol(0).line == 1);
  CHECK(f.lineCol(1).column == 2);
  auto lc = f.lineCol(5); // 'x' after a two-byte é
  CHECK(lc.line == 2);
  CHECK(lc.column == 2);
  CHECK(f.lineText(2) == "\xC3\xA9x"); // CR stripped
  CHECK(f.lineText(3) == "last");
  CHECK(f.lineCount() == 3);
}

TEST_CASE("an error renders as file:line:col, the source line and a caret span", "[diag]") {
  SourceManager sm;
  FileId id = sm.add("rules/fraud.cep", "pattern p {\n    small: Payment(amout < 1.00){3,}\n}\n");
  DiagnosticEngine diags(sm);
  diags.error(rangeOf(sm, id, "amout"), "unknown field `amout` on event type `Payment`");
  diags.note("did you mean `amount`?");
  std::ostringstream out;
  diags.render(out, false);
  CHECK(out.str() == "rules/fraud.cep:2:20: error: unknown field `amout` on event type `Payment`\n"
                     "    small: Payment(amout < 1.00){3,}\n"
                     "                   ^~~~~\n"
                     "note: did you mean `amount`?\n");
  CHECK(diags.errorCount() == 1);
}

TEST_CASE("diagnostics are sorted by position, tabs are kept in the caret line", "[diag]") {
  SourceManager sm;
  FileId id = sm.add("t.cep", "\tx y\n");
  DiagnosticEngine diags(sm);
  diags.warning(rangeOf(sm, id, "y"), "second");
  diags.error(rangeOf(sm, id, "x"), "first");
  std::ostringstream out;
  diags.render(out, false);
  CHECK(out.str() == "t.cep:1:2: error: first\n\tx y\n\t^\n"
                     "t.cep:1:4: warning: second\n\tx y\n\t  ^\n");
  diags.promoteWarnings();
  CHECK(diags.errorCount() == 2);
}

TEST_CASE("a span running past the end of its line is clipped to the line", "[diag]") {
  SourceManager sm;
  FileId id = sm.add("m.cep", "a = [\n  1\n]\n");
  DiagnosticEngine diags(sm);
  diags.error({id, 4, 10}, "bad list");
  std::ostringstream out;
  diags.render(out, false);
  CHECK(out.str() == "m.cep:1:5: error: bad list\na = [\n    ^\n");
}

TEST_CASE("json output carries positions and notes", "[diag]") {
  SourceManager sm;
  FileId id = sm.add("q\"x.cep", "abc");
  DiagnosticEngine diags(sm);
  diags.error({id, 1, 2}, "bad `b`");
  diags.note("fix it", SourceRange{id, 0, 1});
  std::ostringstream out;
  diags.renderJson(out);
  CHECK(out.str() ==
        "[{\"severity\":\"error\",\"file\":\"q\\\"x.cep\",\"line\":1,\"column\":2,\"endLine\":1,"
        "\"endColumn\":3,\"message\":\"bad `b`\",\"notes\":[{\"file\":\"q\\\"x.cep\",\"line\":1,"
        "\"column\":1,\"endLine\":1,\"endColumn\":2,\"message\":\"fix it\"}]}]\n");
}

TEST_CASE("did-you-mean picks the closest name within a small edit distance", "[diag]") {
  std::vector<std::string> names{"amount", "country", "card"};
  CHECK(closestMatch("amout", names) == std::optional<std::string>("amount"));
  CHECK(closestMatch("cuntry", names) == std::optional<std::string>("country"));
  CHECK_FALSE(closestMatch("zzzzzz", names).has_value());
  CHECK(editDistance("kitten", "sitting") == 3);
}
