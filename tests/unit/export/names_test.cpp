#include <catch2/catch.hpp>

#include "karapace/export/names.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::exports;

TEST_CASE("desktop-file ids and executable names are accepted", "[export][names]") {
    for (const char* ok : {"firefox", "org.gnome.TextEditor", "org.gnome.TextEditor.desktop",
                           "code-oss", "app_2", "48x48@2"})
        CHECK(valid_app_name(ok));
}

TEST_CASE("names that could leave the target directory are refused", "[export][names]") {
    for (const char* bad : {"", ".", "..", "../x", "a/b", "/abs", "a..b", ".hidden", "-rf", "a b",
                            "tab\there", "new\nline", "quote\"", "dollar$", "pct%"}) {
        INFO(bad);
        CHECK_FALSE(valid_app_name(bad));
        CHECK_THROWS_AS(validate_app_name(bad), Error);
    }
    CHECK_FALSE(valid_app_name(std::string(201, 'a')));
    try {
        validate_app_name("../x");
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::usage);
        CHECK_THAT(e.what(), Catch::Contains("'../x'") && Catch::Contains(".."));
        CHECK_FALSE(e.hint().empty());
    }
}

TEST_CASE("commands are names or clean absolute paths", "[export][names]") {
    CHECK_NOTHROW(validate_command("rg"));
    CHECK_NOTHROW(validate_command("/usr/bin/rg"));
    CHECK_NOTHROW(validate_command("/opt/.tool/bin/x"));
    for (const char* bad : {"../bin/sh", "/usr/../etc/passwd", "/usr/bin/", "//x", "/usr/./bin/x",
                            "a/b", "", "/bin/a\x01"}) {
        INFO(bad);
        CHECK_THROWS_AS(validate_command(bad), Error);
    }
}

TEST_CASE("exported files share one prefix per environment", "[export][names]") {
    CHECK(file_prefix("web") == "karapace-web-");
}
