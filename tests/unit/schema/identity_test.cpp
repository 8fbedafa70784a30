#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <string>

#include "karapace/schema/identity.hpp"
#include "karapace/schema/lock.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"

using karapace::Digest;
using karapace::Errc;
using karapace::Error;
using karapace::sha256;
using namespace karapace::schema;

namespace {

// The three golden locks. Their ids were computed once with `printf '%s' '<json>' | sha256sum`
// over the JSON strings below, independently of this code.
LockFile empty_lock() {
    LockFile l;
    l.base_image = "debian/bookworm";
    l.pinned_image = "bootstrap:debian/bookworm@20261128T000000Z";
    l.image_digest = sha256("");
    return l;
}

LockFile packages_lock() {
    LockFile l = empty_lock();
    l.packages = {{"git", "1:2.39.2-1.1", "amd64"}, {"curl", "7.88.1-10+deb12u5", "amd64"}};
    l.requested_packages = {"curl", "git"};
    l.gpu = true;
    l.audio = true;
    l.mounts = {{"workspace", "~/projects", "/workspace", false}};
    return l;
}

LockFile everything_lock() {
    LockFile l;
    l.base_image = "rolling";
    l.pinned_image = "https://example.org/rootfs.tar.xz#sha256=00";
    l.image_digest = sha256("karapace");
    l.packages = {{"vim", "2:9.0.1378-2", "amd64"}};
    l.apps = {"firefox", "code"};  // not sorted: identity sorts them
    l.mounts = {{"data", "/mnt/data", "/data", true}};
    l.backend = "mock";
    l.network_isolation = true;
    l.cpu_shares = 2048;
    l.memory_limit_mb = 8192;
    return l;
}

const char* const empty_json =
    R"({"recipe":"karapace-env/1","image_digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","packages":[],"apps":[],"gpu":false,"audio":false,"mounts":[],"backend":"namespace","network_isolation":false,"cpu_shares":null,"memory_limit_mb":null})";
const char* const empty_id = "61febf1b34f0b48803d0fb56a7fda68312fdd8e66a4e71937124f1947f4e726f";
const char* const packages_id = "3aba50f3d9500119f8e52054cb642c672a81cf34a27b23edb52d6c15a8c9f758";
const char* const everything_id =
    "ce6c39a7fccb55cc6299fadf739ba819f7f9ac2a9619b659d59819173484d459";

}  // namespace

TEST_CASE("the identity JSON is the documented record, and env_id is its SHA-256") {
    LockFile l = empty_lock();
    CHECK(identity_json(l) == empty_json);
    // By hand: hash the literal JSON text with the util hasher and compare with the recipe.
    CHECK(sha256(empty_json).hex() == empty_id);
    CHECK(compute_env_id(l).str() == empty_id);
}

TEST_CASE("golden env_id vectors") {
    CHECK(compute_env_id(empty_lock()).str() == empty_id);
    CHECK(compute_env_id(packages_lock()).str() == packages_id);
    CHECK(compute_env_id(everything_lock()).str() == everything_id);
    CHECK(
        identity_json(packages_lock()) ==
        R"({"recipe":"karapace-env/1","image_digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","packages":[{"name":"curl","version":"7.88.1-10+deb12u5","arch":"amd64"},{"name":"git","version":"1:2.39.2-1.1","arch":"amd64"}],"apps":[],"gpu":true,"audio":true,"mounts":[{"label":"workspace","host":"~/projects","container":"/workspace","read_only":false}],"backend":"namespace","network_isolation":false,"cpu_shares":null,"memory_limit_mb":null})");
}

TEST_CASE("env_id ignores what is not identity: names, image text, pin, requested list, version") {
    LockFile a = packages_lock();
    LockFile b = a;
    b.base_image = "debian";
    b.pinned_image = "docker://debian@sha256:abc";
    b.requested_packages = {"git"};
    b.lock_version = 99;
    b.short_id = "whatever";
    CHECK(compute_env_id(a) == compute_env_id(b));
}

TEST_CASE("package, app and mount order does not change env_id") {
    LockFile a = packages_lock();
    LockFile b = a;
    std::swap(b.packages[0], b.packages[1]);
    CHECK(compute_env_id(a) == compute_env_id(b));
    LockFile c = everything_lock();
    LockFile d = c;
    d.apps = {"code", "firefox", "code"};
    CHECK(compute_env_id(c) == compute_env_id(d));
    c.mounts = {{"b", "/b", "/b", false}, {"a", "/a", "/a", false}};
    d.mounts = {{"a", "/a", "/a", false}, {"b", "/b", "/b", false}};
    CHECK(compute_env_id(c) == compute_env_id(d));
}

TEST_CASE("every identity field changes env_id") {
    const LockFile base = everything_lock();
    std::set<std::string> ids{compute_env_id(base).str()};
    auto add = [&](LockFile l) { ids.insert(compute_env_id(l).str()); };
    LockFile l = base;
    l.image_digest = sha256("other");
    add(l);
    l = base;
    l.packages[0].version = "2:9.0.1378-3";
    add(l);
    l = base;
    l.packages[0].arch = "arm64";
    add(l);
    l = base;
    l.packages.push_back({"git", "1", "amd64"});
    add(l);
    l = base;
    l.apps.push_back("gimp");
    add(l);
    l = base;
    l.gpu = true;
    add(l);
    l = base;
    l.audio = true;
    add(l);
    l = base;
    l.mounts[0].read_only = false;
    add(l);
    l = base;
    l.mounts[0].host = "~/data";
    add(l);
    l = base;
    l.mounts[0].label = "other";
    add(l);
    l = base;
    l.backend = "namespace";
    add(l);
    l = base;
    l.network_isolation = false;
    add(l);
    l = base;
    l.cpu_shares.reset();
    add(l);
    l = base;
    l.memory_limit_mb = 8193;
    add(l);
    CHECK(ids.size() == 15);
}

TEST_CASE("post_build hooks are identity, in order; without them the id is what it always was") {
    LockFile l = empty_lock();
    l.post_build = {"mkdir /a", "mkdir /b"};
    CHECK(identity_json(l) ==
          std::string(empty_json).substr(0, std::string(empty_json).size() - 1) +
              R"(,"post_build":["mkdir /a","mkdir /b"]})");
    std::set<std::string> ids{empty_id, compute_env_id(l).str()};
    l.post_build = {"mkdir /b", "mkdir /a"};
    ids.insert(compute_env_id(l).str());
    l.post_build = {"mkdir /b"};
    ids.insert(compute_env_id(l).str());
    CHECK(ids.size() == 4);
    l.post_build.clear();
    CHECK(compute_env_id(l).str() == empty_id);
}

TEST_CASE("field boundaries are unambiguous: moving text between fields changes env_id") {
    // With plain concatenation "a" + "b:c" and "a:b" + "c" collide; canonical JSON cannot.
    LockFile a = empty_lock();
    a.packages = {{"a", "b:c", "x"}};
    LockFile b = empty_lock();
    b.packages = {{"a:b", "c", "x"}};
    CHECK(compute_env_id(a) != compute_env_id(b));
}

TEST_CASE("a mount written with ~ gives the same env_id whatever HOME is") {
    LockFile l = packages_lock();
    const char* old = std::getenv("HOME");
    std::string saved = old != nullptr ? old : "";
    ::setenv("HOME", "/home/alice", 1);
    EnvId alice = compute_env_id(l);
    std::string alice_path = resolve_host_path(l.mounts[0], "/p", "/home/alice");
    ::setenv("HOME", "/home/bob", 1);
    EnvId bob = compute_env_id(l);
    std::string bob_path = resolve_host_path(l.mounts[0], "/p", "/home/bob");
    if (old != nullptr)
        ::setenv("HOME", saved.c_str(), 1);
    else
        ::unsetenv("HOME");
    CHECK(alice == bob);
    CHECK(alice_path == "/home/alice/projects");
    CHECK(bob_path == "/home/bob/projects");
}

TEST_CASE("env_id is 64 hex characters and short_id its first 12") {
    EnvId id = compute_env_id(everything_lock());
    CHECK(id.str().size() == 64);
    CHECK(EnvId::valid(id.str()));
    CHECK(id.short_id() == id.str().substr(0, 12));
    for (int i = 0; i < 100; ++i)
        REQUIRE(compute_env_id(everything_lock()) == id);
}

TEST_CASE("EnvId parsing accepts only 64 lower-case hex characters") {
    CHECK(EnvId::from_hex(empty_id).has_value());
    CHECK_FALSE(EnvId::from_hex(std::string(empty_id).substr(0, 63)).has_value());
    CHECK_FALSE(EnvId::from_hex(std::string(empty_id) + "0").has_value());
    std::string upper = empty_id;
    upper[0] = 'F';
    upper[1] = 'A';
    CHECK_FALSE(EnvId::from_hex(upper).has_value());
    CHECK_FALSE(EnvId::from_hex("../../../../etc/passwd").has_value());
    try {
        EnvId::parse("abc", Errc::store, "metadata file name");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find("metadata file name 'abc'") != std::string::npos);
    }
    CHECK(EnvId().empty());
}

TEST_CASE("verify_integrity passes for an assigned lock and names both ids when tampered") {
    LockFile l = packages_lock();
    assign_identity(l);
    CHECK(l.env_id.str() == packages_id);
    CHECK(l.short_id == std::string(packages_id).substr(0, 12));
    CHECK_NOTHROW(verify_integrity(l));

    LockFile tampered = l;
    tampered.packages[0].version = "7.88.1-10+deb12u6";
    try {
        verify_integrity(tampered, "karapace.lock");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        std::string msg = e.what();
        CHECK(msg.find(packages_id) != std::string::npos);
        CHECK(msg.find(compute_env_id(tampered).str()) != std::string::npos);
        CHECK(e.hint().find("karapace build") != std::string::npos);
    }

    LockFile bad_short = l;
    bad_short.short_id = "000000000000";
    CHECK_THROWS_WITH(verify_integrity(bad_short), Catch::Contains("short_id mismatch"));
}
