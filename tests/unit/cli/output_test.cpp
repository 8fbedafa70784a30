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
