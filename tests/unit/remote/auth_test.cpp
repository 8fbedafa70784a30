#include <catch2/catch.hpp>

#include "karapace/remote/auth.hpp"
#include "karapace/schema/config.hpp"
#include "remote/http.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace karapace;
using namespace karapace::remote;

TEST_CASE("a Bearer challenge gives realm, service and scope") {
    auto c = parse_www_authenticate(
        R"(Bearer realm="https://auth.example.org/token",service="registry.example.org",scope="repository:team/web:pull,push")");
    REQUIRE(c.size() == 1);
    CHECK(c[0].scheme == "bearer");
    CHECK(c[0].param("realm") == "https://auth.example.org/token");
    CHECK(c[0].param("service") == "registry.example.org");
    CHECK(c[0].param("scope") == "repository:team/web:pull,push");
}

TEST_CASE("several challenges, odd spacing, case and escaped quotes") {
    auto c = parse_www_authenticate(
        R"(basic Realm="a \"b\", c" , Bearer realm=https://t.example/tok, error="insufficient_scope")");
    REQUIRE(c.size() == 2);
    CHECK(c[0].scheme == "basic");
    CHECK(c[0].param("realm") == R"(a "b", c)");
    CHECK(c[1].scheme == "bearer");
    CHECK(c[1].param("realm") == "https://t.example/tok");
    CHECK(c[1].param("error") == "insufficient_scope");
}

TEST_CASE("malformed challenges give what could be read, never hang") {
    CHECK(parse_www_authenticate("").empty());
    CHECK(parse_www_authenticate("   ,  ").empty());
    auto c = parse_www_authenticate(R"(Bearer realm="unterminated)");
    REQUIRE(c.size() == 1);
    CHECK(c[0].param("realm") == "unterminated");
    (void)parse_www_authenticate("=\"x\" ,,, ;;; Bearer");
}

TEST_CASE("base64 round-trips and rejects garbage") {
    for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "alice:s3cret",
                                                         std::string("\0\xff:", 3)}) {
        auto d = base64_decode(base64_encode(s));
        REQUIRE(d);
        CHECK(*d == s);
    }
    CHECK(base64_encode("alice:s3cret") == "YWxpY2U6czNjcmV0");
    CHECK_FALSE(base64_decode("abc"));
    CHECK_FALSE(base64_decode("ab!d"));
    CHECK(basic_authorization({"alice", "s3cret", ""}) == "Basic YWxpY2U6czNjcmV0");
}

TEST_CASE("auth files: keys match with or without scheme and path") {
    const std::string json = R"({"auths": {
        "https://index.docker.io/v1/": {"auth": "dTpw"},
        "127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"},
        "broken.example": {"auth": "not base64!"}}})";
    auto c = credentials_from_auth_json(json, "127.0.0.1:5000", "auth.json");
    REQUIRE(c);
    CHECK(c->username == "alice");
    CHECK(c->password == "s3cret");
    CHECK(c->source == "auth.json");
    auto d = credentials_from_auth_json(json, "index.docker.io", "auth.json");
    REQUIRE(d);
    CHECK(d->username == "u");
    CHECK_FALSE(credentials_from_auth_json(json, "broken.example", "auth.json"));
    CHECK_FALSE(credentials_from_auth_json(json, "127.0.0.1:5001", "auth.json"));
    CHECK_FALSE(credentials_from_auth_json("[]", "x", "auth.json"));
}

TEST_CASE("auth files: credHelpers and credsStore run docker-credential-NAME get") {
    char tmpl[] = "/tmp/karapace-credhelper.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    // A helper that answers for one registry only, as docker's helpers do.
    auto helper = [&](const std::string& name, const std::string& user) {
        std::ofstream(dir + "/docker-credential-" + name)
            << "#!/bin/sh\nread host\n"
            << "[ \"$1\" = get ] && [ \"$host\" = registry.example:5000 ] || "
            << "{ echo 'credentials not found in native keychain'; exit 1; }\n"
            << "printf '{\"ServerURL\":\"%s\",\"Username\":\"" << user << "\",\"Secret\":\"pw-"
            << user << "\"}' \"$host\"\n";
        ::chmod((dir + "/docker-credential-" + name).c_str(), 0755);
    };
    helper("pass", "helped");
    helper("desktop", "stored");
    const char* old_path = std::getenv("PATH");
    std::string saved = old_path ? old_path : "";
    ::setenv("PATH", (dir + ":" + saved).c_str(), 1);

    const std::string with_helper = R"({"credHelpers": {"registry.example:5000": "pass"},
        "auths": {"registry.example:5000": {"auth": "YWxpY2U6czNjcmV0"}},
        "credsStore": "desktop"})";
    auto c = credentials_from_auth_json(with_helper, "registry.example:5000", "config.json");
    REQUIRE(c);
    CHECK(c->username == "helped");
    CHECK(c->password == "pw-helped");
    CHECK(c->source.find("docker-credential-pass") != std::string::npos);

    // Without a helper for the host: the stored entry, then the store.
    const std::string with_store = R"({"auths": {"other:1": {"auth": "YWxpY2U6czNjcmV0"}},
        "credsStore": "desktop"})";
    auto d = credentials_from_auth_json(with_store, "registry.example:5000", "config.json");
    REQUIRE(d);
    CHECK(d->username == "stored");
    auto e = credentials_from_auth_json(with_store, "other:1", "config.json");
    REQUIRE(e);
    CHECK(e->username == "alice");
    // The store has nothing for this host, and a helper that is not installed gives nothing.
    CHECK_FALSE(credentials_from_auth_json(with_store, "nowhere:2", "config.json"));
    CHECK_FALSE(credentials_from_auth_json(R"({"credHelpers": {"nowhere:2": "missing"}})",
                                           "nowhere:2", "config.json"));

    ::setenv("PATH", saved.c_str(), 1);
    std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("token answers: token, else access_token") {
    CHECK(token_from_response(R"({"token":"abc","access_token":"def"})") == "abc");
    CHECK(token_from_response(R"({"access_token":"def"})") == "def");
    CHECK_FALSE(token_from_response(R"({"token":""})"));
    CHECK_FALSE(token_from_response("nope"));
}

TEST_CASE("registry error bodies become one line") {
    CHECK(
        detail::registry_error_text(
            R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},{"code":"X"}]})") ==
        "MANIFEST_UNKNOWN: manifest unknown; X");
    CHECK(detail::registry_error_text("<html>").empty());
    CHECK(detail::url_escape("repository:a/b:pull,push") == "repository%3Aa%2Fb%3Apull%2Cpush");
}

TEST_CASE("config.toml [remote]: default url and credentials per host") {
    auto cfg = schema::parse_user_config(R"(
[remote]
url = " https://ghcr.io/alice "
[remote.credentials."127.0.0.1:5000"]
username = "alice"
password = "s3cret"
)",
                                         "config.toml", "/home/a");
    CHECK(cfg.remote_url == "https://ghcr.io/alice");
    REQUIRE(cfg.registry_credentials.count("127.0.0.1:5000") == 1);
    CHECK(cfg.registry_credentials.at("127.0.0.1:5000").password == "s3cret");
    CHECK_THROWS_WITH(schema::parse_user_config("[remote]\ntoken = \"x\"\n", "config.toml", "/h"),
                      Catch::Contains("token"));
    CHECK_THROWS_WITH(schema::parse_user_config("[remote.credentials.\"h\"]\nusername = \"a\"\n",
                                                "config.toml", "/h"),
                      Catch::Contains("password"));
}
