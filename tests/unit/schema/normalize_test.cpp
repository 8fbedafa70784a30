#include <catch2/catch.hpp>

#include <string>

#include "karapace/schema/manifest.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/error.hpp"
#include "test_data.hpp"

using karapace::Errc;
using karapace::Error;
using namespace karapace::schema;

namespace {

std::string golden(const std::string& name) {
    std::string text = schema_test::data("golden/" + name);
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text;
}

std::string canonical_of(const std::string& valid_file) {
    return canonical_json(
        normalize(parse_manifest_file(schema_test::data_dir() + "/valid/" + valid_file)));
}

Manifest base() {
    Manifest m;
    m.base_image = "debian/bookworm";
    return m;
}

}  // namespace

TEST_CASE("canonical JSON of the corpus manifests matches the golden files") {
    CHECK(canonical_of("normalization.toml") == golden("normalization.json"));
    CHECK(canonical_of("full.toml") == golden("full.json"));
    CHECK(canonical_of("minimal.toml") == golden("minimal.json"));
}

TEST_CASE(
    "normalisation trims, sorts and de-duplicates names, sorts mounts and lowers the backend") {
    NormalizedManifest n =
        normalize(parse_manifest_file(schema_test::data_dir() + "/valid/normalization.toml"));
    CHECK(n.base_image == "debian/bookworm");
    CHECK(n.packages == std::vector<std::string>{"curl", "git", "vim"});
    CHECK(n.apps == std::vector<std::string>{"code", "firefox"});
    REQUIRE(n.mounts.size() == 3);
    CHECK(n.mounts[0].label == "alpha");
    CHECK(n.mounts[1].label == "mid");
    CHECK(n.mounts[2] == MountSpec{"zeta", "~/z", "/z", false});
    CHECK(n.backend == "oci");
}

TEST_CASE("reordered packages, apps and mounts give identical canonical JSON") {
    Manifest a = base();
    a.packages = {"git", "clang", "git"};
    a.apps = {"b", "a"};
    a.mounts = {{"x", "/x", "/x", false}, {"y", "/y", "/y", true}};
    Manifest b = base();
    b.packages = {"clang", "git"};
    b.apps = {"a", "b", "a"};
    b.mounts = {{"y", "/y", "/y", true}, {"x", "/x", "/x", false}};
    CHECK(canonical_json(normalize(a)) == canonical_json(normalize(b)));
    b.packages.push_back("vim");
    CHECK(canonical_json(normalize(a)) != canonical_json(normalize(b)));
}

TEST_CASE("canonical JSON writes absent limits as null and present ones as numbers") {
    Manifest m = base();
    CHECK(canonical_json(normalize(m)).find(R"("cpu_shares":null,"memory_limit_mb":null)") !=
          std::string::npos);
    m.cpu_shares = 512;
    m.memory_limit_mb = 1;
    CHECK(canonical_json(normalize(m)).find(R"("cpu_shares":512,"memory_limit_mb":1})") !=
          std::string::npos);
}

TEST_CASE("canonical JSON escapes what JSON requires and nothing else") {
    Manifest m = base();
    m.base_image = "https://example.org/a\"b\\c/é";
    CHECK(canonical_json(normalize(m)).find(R"("base_image":"https://example.org/a\"b\\c/é")") !=
          std::string::npos);
}

TEST_CASE("two mounts onto one container path are refused, however the path is spelled") {
    Manifest m = base();
    m.mounts = {{"a", "/x", "/data", false}, {"b", "/y", "/data/", false}};
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("mounts 'a' and 'b' both mount onto /data"));
    m.mounts[1].container = "/srv/../data";
    CHECK_THROWS_AS(normalize(m), Error);  // '..' is refused outright
}

TEST_CASE("two mounts whose labels are equal after trimming are refused") {
    Manifest m = base();
    m.mounts = {{"a", "/x", "/a", false}, {" a ", "/y", "/b", false}};
    try {
        normalize(m);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        CHECK(std::string(e.what()).find("mount label 'a' is used twice") != std::string::npos);
    }
}

TEST_CASE("a hand-built manifest is held to the parser's rules") {
    Manifest m = base();
    m.base_image = "  ";
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("base.image must not be empty"));
    m = base();
    m.backend = "docker";
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("unknown backend 'docker'"));
    m = base();
    m.mounts = {{"w", "~/src", "relative", false}};
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("must be absolute"));
    m = base();
    m.manifest_version = 2;
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("unsupported manifest_version 2"));
    m = base();
    m.env = {{"HOME", "/x"}};
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("[env] HOME: HOME is set by the sandbox"));
    m = base();
    m.env = {{"A", "$(date)"}};
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("[env] A: has a '$'"));
    m = base();
    m.env = {{"A", "1"}, {"A", "2"}};
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("[env] A: is set twice"));
    m = base();
    m.on_enter = {"echo", " "};
    CHECK_THROWS_WITH(normalize(m), Catch::Contains("[hooks] on_enter element 1 is empty"));
}

TEST_CASE("[env] is sorted by name, hooks keep their order, and canonical JSON has them last") {
    NormalizedManifest n =
        normalize(parse_manifest_file(schema_test::data_dir() + "/valid/env-and-hooks.toml"));
    CHECK(n.env.front().name == "EDITOR");
    CHECK(n.post_build.size() == 2);
    CHECK(n.post_build[0] == "mkdir -p /opt/tools");
    CHECK(canonical_json(n).find(
              R"("memory_limit_mb":null,"env":{"EDITOR":"vim","PATH":"$HOME/.local/bin:${PATH}",)"
              R"("PRICE":"$$5"},"post_build":["mkdir -p /opt/tools","set -e\necho two lines"],)"
              R"("on_enter":["echo welcome"]})") != std::string::npos);
    Manifest reordered = base();
    reordered.env = {{"B", "2"}, {"A", "1"}};
    Manifest sorted = base();
    sorted.env = {{"A", "1"}, {"B", "2"}};
    CHECK(canonical_json(normalize(reordered)) == canonical_json(normalize(sorted)));
    Manifest hooks = base();
    hooks.post_build = {"b", "a"};
    Manifest swapped = base();
    swapped.post_build = {"a", "b"};
    CHECK(canonical_json(normalize(hooks)) != canonical_json(normalize(swapped)));
    // Without them the record is what it was before they existed.
    CHECK(canonical_json(normalize(base())).find("env") == std::string::npos);
    CHECK(canonical_json(normalize(base())).find("hooks") == std::string::npos);
}

TEST_CASE("normalising twice changes nothing") {
    Manifest m = parse_manifest_file(schema_test::data_dir() + "/valid/normalization.toml");
    NormalizedManifest once = normalize(m);
    Manifest again;
    again.base_image = once.base_image;
    again.packages = once.packages;
    again.apps = once.apps;
    again.mounts = once.mounts;
    again.backend = once.backend;
    CHECK(normalize(again) == once);
}
