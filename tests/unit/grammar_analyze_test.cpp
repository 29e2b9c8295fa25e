// PEGTL's grammar lint: no rule of the `.cep` grammar can loop without consuming input.
#include "lang/grammar.hpp"

#include <catch2/catch.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

TEST_CASE("grammar: analyze() finds no problems", "[grammar]") {
  CHECK(tao::pegtl::analyze<cep::lang::grammar::module>(1) == 0);
}
