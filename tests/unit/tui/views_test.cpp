#include "tui/views.hpp"

#include <clocale>

#include <catch2/catch.hpp>

using karapace::tui::fit;

TEST_CASE("fit cuts and pads to a number of columns", "[tui]") {
    CHECK(fit("environment", 5, false) == "envir");
    CHECK(fit("env", 5, false, true) == "env  ");
    CHECK(fit("env", 0, false, true).empty());
}

TEST_CASE("fit writes only ASCII for a plain terminal, one '?' per character", "[tui]") {
    CHECK(fit("caf\xc3\xa9 \xe2\x86\x91", 10, false) == "caf? ?");
    CHECK(fit("a\tb\x1b", 10, false) == "a?b?");
}

TEST_CASE("fit keeps UTF-8 whole and counts columns, not bytes", "[tui]") {
    if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) return;
    CHECK(fit("caf\xc3\xa9!", 4, true) == "caf\xc3\xa9");
    CHECK(fit("\xe2\x86\x91\xe2\x86\x91", 1, true, true) == "\xe2\x86\x91");
    // A wide character that does not fit is left out, not cut in half.
    CHECK(fit("a\xe4\xb8\xad", 2, true, true) == "a ");
    CHECK(fit("bad\xff", 10, true) == "bad?");
    std::setlocale(LC_CTYPE, "C");
}
