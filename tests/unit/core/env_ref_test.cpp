// Resolving user-typed environment references.
#include <catch2/catch.hpp>

#include <string>

#include "karapace/core/env_ref.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::core;

namespace {

EnvCandidate env(std::string id, std::string name, std::string state = "built") {
    std::string short_id = id.substr(0, 12);
    return {std::move(id), std::move(short_id), std::move(name), std::move(state)};
}

// 64-character ids built from a distinctive start.
std::string id(const std::string& start) { return start + std::string(64 - start.size(), '0'); }

const std::vector<EnvCandidate> store = {
    env(id("3f2a9c1b0d4e"), "web"),
    env(id("3f2a77aa1234"), "worker", "running"),
    env(id("cafe01234567"), "db", "frozen"),
    env(id("beef98765432"), "cafe", "archived"),
    env(id("a1b2c3d4e5f6"), ""),
};

Error resolve_error(std::string_view input) {
    try {
        resolve_env_ref(input, store);
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected '" << input << "' to fail");
    return Error(Errc::failed, "unreachable");
}

}  // namespace

TEST_CASE("a full id or a name resolves exactly") {
    CHECK(resolve_env_ref(id("cafe01234567"), store).name == "db");
    CHECK(resolve_env_ref("worker", store).env_id == id("3f2a77aa1234"));
    CHECK(resolve_env_ref("web", store).short_id == "3f2a9c1b0d4e");
}

TEST_CASE("a unique id prefix of four or more characters resolves") {
    CHECK(resolve_env_ref("3f2a9", store).name == "web");
    CHECK(resolve_env_ref("a1b2", store).name.empty());
    CHECK(resolve_env_ref("A1B2C3", store).env_id == id("a1b2c3d4e5f6"));
    CHECK(resolve_env_ref("3f2a9c1b0d4e", store).name == "web");
}

TEST_CASE("a name wins over an id prefix that looks the same") {
    // "cafe" is both the name of an archived environment and a prefix of db's id.
    CHECK(resolve_env_ref("cafe", store).name == "cafe");
    CHECK(resolve_env_ref("cafe0", store).name == "db");
}

TEST_CASE("an ambiguous prefix lists every candidate") {
    auto e = resolve_error("3f2a");
    CHECK(e.code() == Errc::usage);
    std::string what = e.what();
    CHECK(what.find("matches 2 environments") != std::string::npos);
    CHECK(what.find("web (3f2a9c1b0d4e, built)") != std::string::npos);
    CHECK(what.find("worker (3f2a77aa1234, running)") != std::string::npos);
    CHECK(e.hint().find("more characters") != std::string::npos);
}

TEST_CASE("a prefix shorter than four characters is a usage error saying so") {
    auto e = resolve_error("3f2");
    CHECK(e.code() == Errc::usage);
    CHECK(std::string(e.what()).find("too short") != std::string::npos);
    CHECK(e.hint().find("at least 4") != std::string::npos);
}

TEST_CASE("an empty reference is a usage error") { CHECK(resolve_error("").code() == Errc::usage); }

TEST_CASE("nothing matching suggests similar names") {
    auto typo = resolve_error("wrker");
    CHECK(typo.code() == Errc::not_found);
    CHECK(std::string(typo.what()) == "no environment matching 'wrker'");
    CHECK(typo.hint().find("worker (3f2a77aa1234, running)") != std::string::npos);

    auto cased = resolve_error("WEB");  // names are case-sensitive, suggestions are not
    CHECK(cased.hint().find("web (3f2a9c1b0d4e, built)") != std::string::npos);

    auto part = resolve_error("work");
    CHECK(part.hint().find("worker") != std::string::npos);

    auto none = resolve_error("zzzzzzzz");
    CHECK(none.code() == Errc::not_found);
    CHECK(none.hint().find("karapace list") != std::string::npos);
}

TEST_CASE("a hex prefix that matches no id is not found") {
    auto e = resolve_error("dddd");
    CHECK(e.code() == Errc::not_found);
    CHECK(resolve_error(id("dddd")).code() == Errc::not_found);
}

TEST_CASE("edit distance counts insertions, deletions and substitutions") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("web", "web") == 0);
    CHECK(edit_distance("web", "wbe") == 2);
    CHECK(edit_distance("worker", "wrker") == 1);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("", "abc") == 3);
}
