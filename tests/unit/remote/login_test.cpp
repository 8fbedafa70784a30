#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "karapace/remote/auth.hpp"
#include "karapace/remote/login.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::remote;

namespace {

boost::json::object parsed(const std::string& text) { return boost::json::parse(text).as_object(); }

// Sets (or unsets, for nullptr) an environment variable for one scope.
class EnvVar {
public:
    EnvVar(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~EnvVar() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("login writes auths.<host>.auth as base64 of user:password, keeping the rest") {
    Credentials c{"alice", "s3:cret", ""};
    auto fresh = parsed(auth_json_with("", "127.0.0.1:5000", c, "auth.json"));
    CHECK(fresh == parsed(R"({"auths": {"127.0.0.1:5000": {"auth": "YWxpY2U6czM6Y3JldA=="}}})"));
    auto back = credentials_from_auth_json(boost::json::serialize(fresh), "127.0.0.1:5000", "f");
    REQUIRE(back);
    CHECK(back->username == "alice");
    CHECK(back->password == "s3:cret");

    const std::string before =
        R"({"auths": {"ghcr.io": {"auth": "eDp5"}, "127.0.0.1:5000": {"auth": "b2xkOm9sZA=="}},)"
        R"( "credHelpers": {"quay.io": "pass"}})";
    auto after = parsed(auth_json_with(before, "127.0.0.1:5000", c, "auth.json"));
    CHECK(after.at("credHelpers") == parsed(R"({"quay.io": "pass"})"));
    CHECK(after.at("auths").as_object().size() == 2);
    CHECK(after.at("auths").at("ghcr.io") == parsed(R"({"auth": "eDp5"})"));
    CHECK(after.at("auths").at("127.0.0.1:5000").at("auth") == "YWxpY2U6czM6Y3JldA==");
}

TEST_CASE("an auth file that is not a JSON object with an object auths is refused, not replaced") {
    Credentials c{"a", "b", ""};
    for (const char* bad : {"not json", "[]", R"({"auths": []})", R"({"auths": "x"})"}) {
        try {
            auth_json_with(bad, "h", c, "/x/auth.json");
            FAIL("accepted " << bad);
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::StartsWith("the auth file /x/auth.json "));
            CHECK_THAT(e.hint(), Catch::Contains("left as it was"));
        }
        std::vector<std::string> removed;
        CHECK_THROWS_AS(auth_json_without(bad, "h", removed, "/x/auth.json"), Error);
    }
    CHECK(parsed(auth_json_with("{}", "h", c, "f")).at("auths").as_object().size() == 1);
}

TEST_CASE("logout removes the registry's entry, or every entry, and nothing else") {
    const std::string text =
        R"({"auths": {"ghcr.io": {"auth": "eDp5"}, "127.0.0.1:5000": {"auth": "eDp5"}}, "k": 1})";
    std::vector<std::string> removed;
    auto one = parsed(auth_json_without(text, "127.0.0.1:5000", removed, "f"));
    CHECK(removed == std::vector<std::string>{"127.0.0.1:5000"});
    CHECK(one == parsed(R"({"auths": {"ghcr.io": {"auth": "eDp5"}}, "k": 1})"));
    removed.clear();
    auto none = parsed(auth_json_without(text, "quay.io", removed, "f"));
    CHECK(removed.empty());
    CHECK(none == parsed(text));
    auto all = parsed(auth_json_without(text, "", removed, "f"));
    CHECK(removed == std::vector<std::string>{"ghcr.io", "127.0.0.1:5000"});
    CHECK(all == parsed(R"({"auths": {}, "k": 1})"));
}

TEST_CASE("the entry under the bare host wins over other spellings of the same registry") {
    const std::string json = R"({"auths": {
        "https://127.0.0.1:5000/v1/": {"auth": "b2xkOm9sZA=="},
        "127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"}}})";
    auto c = credentials_from_auth_json(json, "127.0.0.1:5000", "auth.json");
    REQUIRE(c);
    CHECK(c->username == "alice");
    CHECK(auth_key_host("https://Host.Example:5000/v1/") == "host.example:5000");
}

TEST_CASE("login writes the first auth file push and pull read, as podman chooses it") {
    EnvVar run("XDG_RUNTIME_DIR", "/tmp");
    EnvVar config("XDG_CONFIG_HOME", "/home/u/.config");
    {
        EnvVar file("REGISTRY_AUTH_FILE", "/etc/auth.json");
        CHECK(login_auth_file() == "/etc/auth.json");
        CHECK(auth_file_candidates().front() == login_auth_file());
    }
    EnvVar no_file("REGISTRY_AUTH_FILE", nullptr);
    CHECK(login_auth_file() == "/tmp/containers/auth.json");
    CHECK(auth_file_candidates().front() == login_auth_file());
    {
        EnvVar no_run("XDG_RUNTIME_DIR", nullptr);
        CHECK(login_auth_file() == "/home/u/.config/containers/auth.json");
        CHECK(auth_file_candidates().front() == login_auth_file());
    }
    EnvVar missing("XDG_RUNTIME_DIR", "/nonexistent/run");
    CHECK_THROWS_WITH(login_auth_file(), Catch::Contains("XDG_RUNTIME_DIR is /nonexistent/run"));
}

TEST_CASE(
    "login refuses a repository, a user name with ':' and empty credentials before any request") {
    EnvVar file("REGISTRY_AUTH_FILE", "/nonexistent/dir/auth.json");
    Credentials c{"alice", "pw", ""};
    CHECK_THROWS_WITH(login("127.0.0.1:1/team", c), Catch::Contains("whole registry"));
    CHECK_THROWS_WITH(login("not a host", c), Catch::Contains("not a registry host"));
    CHECK_THROWS_WITH(login("127.0.0.1:1", Credentials{"a:b", "pw", ""}), Catch::Contains("':'"));
    CHECK_THROWS_WITH(login("127.0.0.1:1", Credentials{"", "pw", ""}),
                      Catch::Contains("user name is empty"));
    CHECK_THROWS_WITH(login("127.0.0.1:1", Credentials{"a", "", ""}),
                      Catch::Contains("password is empty"));
}
