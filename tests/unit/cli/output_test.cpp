#include <unistd.h>
#include <catch2/catch.hpp>

#include "cli/output.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"

using namespace karapace;
using namespace karapace::cli;

namespace {

struct Captured {
    std::string out;
    std::string err;
};

std::string drain(int fd) {
    std::string s;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        s.append(buf, static_cast<std::size_t>(n));
    return s;
}

template <typename F>
Captured capture(bool json, F f) {
    int out[2];
    int err[2];
    REQUIRE(::pipe(out) == 0);
    REQUIRE(::pipe(err) == 0);
    {
        Output o(json, Terminal{}, out[1], err[1]);
        f(o);
    }
    ::close(out[1]);
    ::close(err[1]);
    Captured c{drain(out[0]), drain(err[0])};
    ::close(out[0]);
    ::close(err[0]);
    return c;
}

}  // namespace

TEST_CASE("human output prints lines and ignores the JSON document", "[cli][output]") {
    auto c = capture(false, [](Output& o) {
        o.json_result(boost::json::object{{"a", 1}});
        o.line("built environment web");
    });
    CHECK(c.out == "built environment web\n");
    CHECK(c.err.empty());
}

TEST_CASE("JSON output prints only the document on stdout", "[cli][output]") {
    auto c = capture(true, [](Output& o) {
        o.line("built environment web");
        o.json_result(boost::json::object{{"status", "built"}});
    });
    const auto v = json::parse(c.out, "stdout");
    CHECK(v.as_object().at("status").as_string() == "built");
}

TEST_CASE("an error goes to stderr with its hint, and as JSON on stdout with --json",
          "[cli][output]") {
    const Error e(Errc::manifest, "karapace.toml:3:1: unknown key 'colour'", "remove it");
    auto human = capture(false, [&](Output& o) { o.error(e); });
    CHECK(human.out.empty());
    CHECK(human.err == "error: karapace.toml:3:1: unknown key 'colour'\nhint: remove it\n");

    auto machine = capture(true, [&](Output& o) { o.error(e); });
    CHECK(machine.err == human.err);
    const auto v = json::parse(machine.out, "stdout");
    const auto& err = v.as_object().at("error").as_object();
    CHECK(err.at("category").as_string() == "manifest");
    CHECK(err.at("message").as_string() == "karapace.toml:3:1: unknown key 'colour'");
    CHECK(err.at("hint").as_string() == "remove it");
}

TEST_CASE("an error without a hint has a null hint in JSON", "[cli][output]") {
    const auto v = Output::error_json(Error(Errc::failed, "boom"));
    CHECK(v.as_object().at("error").as_object().at("hint").is_null());
}

TEST_CASE("printable escapes what a terminal would act on and keeps the rest") {
    CHECK(printable("etc/hosts") == "etc/hosts");
    CHECK(printable("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac") ==
          "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac");
    CHECK(printable("a\nb\tc\rd") == "a\\nb\\tc\\rd");
    CHECK(printable("\x1b[2J\x07\x7f") == "\\x1b[2J\\x07\\x7f");
    CHECK(printable(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(printable("back\\slash") == "back\\\\slash");
    CHECK(printable("\xc2\x9b"
                    "31m") == "\\u009b31m");                              // C1 CSI
    CHECK(printable("txt.\xe2\x80\xaegpj.exe") == "txt.\\u202egpj.exe");  // right-to-left override
    CHECK(printable("bad\xff\xc3") == "bad\\xff\\xc3");                   // not UTF-8
}
