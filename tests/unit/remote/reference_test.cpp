#include <catch2/catch.hpp>

#include "karapace/remote/reference.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::remote;

TEST_CASE("a full reference names registry, repository and tag; loopback hosts speak http") {
    auto r = parse_reference("127.0.0.1:5000/team/web:v1", std::nullopt);
    CHECK(r.scheme == "http");
    CHECK(r.host == "127.0.0.1:5000");
    CHECK(r.repository == "team/web");
    CHECK(r.tag == "v1");
    CHECK_FALSE(r.digest);
    CHECK(r.str() == "127.0.0.1:5000/team/web:v1");
    CHECK(r.base_url() == "http://127.0.0.1:5000/v2/team/web");

    auto g = parse_reference("ghcr.io/alice/web", std::nullopt);
    CHECK(g.scheme == "https");
    CHECK(g.tag == "latest");
    CHECK(parse_reference("localhost/web:1", std::nullopt).scheme == "http");
}

TEST_CASE("a digest reference needs no tag and is what manifests are fetched by") {
    const std::string hex(64, 'a');
    auto r = parse_reference("registry.example.org/web@sha256:" + hex, std::nullopt);
    REQUIRE(r.digest);
    CHECK(r.tag.empty());
    CHECK(r.manifest_reference() == "sha256:" + hex);
    CHECK_THROWS_AS(parse_reference("registry.example.org/web@sha256:abc", std::nullopt), Error);
}

TEST_CASE("an explicit scheme wins, and http:// works for any host") {
    auto r = parse_reference("http://registry.lan:5000/web:v1", std::nullopt);
    CHECK(r.scheme == "http");
    CHECK(r.host == "registry.lan:5000");
    auto s = parse_reference("https://127.0.0.1:5000/web:v1", std::nullopt);
    CHECK(s.scheme == "https");
}

TEST_CASE("references without a host are relative to the remote and its prefix") {
    auto remote = parse_remote("https://ghcr.io/alice/");
    CHECK(remote.host == "ghcr.io");
    CHECK(remote.prefix == "alice");
    CHECK(remote.str() == "https://ghcr.io/alice");
    auto r = parse_reference("web:v2", remote);
    CHECK(r.host == "ghcr.io");
    CHECK(r.repository == "alice/web");
    CHECK(r.tag == "v2");
    CHECK_THROWS_WITH(parse_reference("web:v2", std::nullopt),
                      Catch::Contains("no default remote"));
}

TEST_CASE("the remote's scheme applies to a full reference on the same host") {
    auto remote = parse_remote("http://registry.lan:5000");
    CHECK(parse_reference("registry.lan:5000/web", remote).scheme == "http");
    CHECK(parse_reference("other.lan/web", remote).scheme == "https");
}

TEST_CASE("invalid repositories and tags are usage errors that say why") {
    for (const char* bad : {"ghcr.io/Web:v1", "ghcr.io/web:-v1", "ghcr.io/a//b",
                            "ghcr.io/web:", "ftp://host/web", "ghcr.io/we b"}) {
        INFO(bad);
        try {
            parse_reference(bad, std::nullopt);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.code() == Errc::usage);
        }
    }
    CHECK(valid_repository("a/b-c/d__e/f.g"));
    CHECK_FALSE(valid_repository("a/-b"));
    CHECK(valid_tag("v1.0_rc-2"));
    CHECK_FALSE(valid_tag(".hidden"));
}

TEST_CASE("push targets: a bare tag, repository:tag, or a full reference") {
    auto remote = parse_remote("http://127.0.0.1:5000/team");
    auto a = push_target("", "web", remote);
    CHECK(a.str() == "127.0.0.1:5000/team/web:latest");
    auto b = push_target("v1", "web", remote);
    CHECK(b.str() == "127.0.0.1:5000/team/web:v1");
    auto c = push_target("tools:v1", "web", remote);
    CHECK(c.str() == "127.0.0.1:5000/team/tools:v1");
    auto d = push_target("ghcr.io/bob/tools:v3", "web", remote);
    CHECK(d.str() == "ghcr.io/bob/tools:v3");
    CHECK(d.scheme == "https");
    CHECK_THROWS_AS(push_target("ghcr.io/bob/tools@sha256:" + std::string(64, 'b'), "web", remote),
                    Error);
}

TEST_CASE("environment names become lower-case repositories, or an error pointing at --tag") {
    CHECK(repository_for_name("MyEnv") == "myenv");
    CHECK(repository_for_name("web_dev") == "web_dev");
    try {
        repository_for_name("_x");
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::usage);
        CHECK_THAT(e.hint(), Catch::Contains("--tag"));
    }
}

TEST_CASE("loopback hosts") {
    CHECK(is_loopback_host("127.0.0.1:5000"));
    CHECK(is_loopback_host("127.1.2.3"));
    CHECK(is_loopback_host("localhost:80"));
    CHECK(is_loopback_host("[::1]:5000"));
    CHECK_FALSE(is_loopback_host("127example.com"));
    CHECK_FALSE(is_loopback_host("registry.lan"));
}
