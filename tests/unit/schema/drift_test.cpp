#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "karapace/schema/drift.hpp"
#include "karapace/schema/lock.hpp"
#include "karapace/schema/manifest.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/digest.hpp"

using namespace karapace::schema;

namespace {

NormalizedManifest manifest() {
    Manifest m;
    m.base_image = "debian/bookworm";
    m.packages = {"git", "curl", "vim"};
    m.apps = {"firefox"};
    m.mounts = {{"workspace", "~/src", "/workspace", false}, {"data", "/srv/data", "/data", true}};
    return normalize(m);
}

LockFile lock_of(const NormalizedManifest& n) {
    LockFile l = lock_from_manifest(n);
    l.pinned_image = "bootstrap:debian/bookworm@20261128T000000Z";
    l.image_digest = karapace::sha256("img");
    assign_identity(l);
    return l;
}

std::vector<std::string> keys(const std::vector<Difference>& diffs) {
    std::vector<std::string> out;
    for (const auto& d : diffs)
        out.push_back(d.key);
    return out;
}

}  // namespace

TEST_CASE("a manifest and the lock made from it are in sync") {
    NormalizedManifest n = manifest();
    CHECK(manifest_lock_drift(n, lock_of(n)).empty());
}

TEST_CASE("the drift report lists every difference, one per change") {
    NormalizedManifest old_manifest = manifest();
    LockFile lock = lock_of(old_manifest);

    Manifest m;
    m.base_image = "debian/trixie";
    m.packages = {"git", "curl", "htop", "tmux"};  // vim removed, htop and tmux added
    m.apps = {"gimp"};                             // firefox removed, gimp added
    m.gpu = true;
    m.audio = true;
    m.mounts = {{"workspace", "~/src", "/workspace", true},  // now read-only
                {"cache", "/var/tmp/c", "/cache", false}};   // data removed, cache added
    m.backend = "oci";
    m.network_isolation = true;
    m.cpu_shares = 512;
    m.memory_limit_mb = 2048;
    auto diffs = manifest_lock_drift(normalize(m), lock);

    CHECK(keys(diffs) == std::vector<std::string>{
                             "base.image",
                             "system.packages",
                             "system.packages",
                             "system.packages",
                             "gui.apps",
                             "gui.apps",
                             "hardware.gpu",
                             "hardware.audio",
                             "mounts.cache",
                             "mounts.workspace",
                             "mounts.data",
                             "runtime.backend",
                             "runtime.network_isolation",
                             "runtime.resource_limits.cpu_shares",
                             "runtime.resource_limits.memory_limit_mb",
                         });
    auto has = [&](const std::string& text) {
        return std::any_of(diffs.begin(), diffs.end(), [&](const Difference& d) {
            return d.message.find(text) != std::string::npos;
        });
    };
    CHECK(
        has("base image changed: the lock file has 'debian/bookworm', the manifest has "
            "'debian/trixie'"));
    CHECK(has("package 'htop' is in the manifest but not in the lock file"));
    CHECK(has("package 'tmux' is in the manifest but not in the lock file"));
    CHECK(has("package 'vim' is in the lock file but no longer in the manifest"));
    CHECK(has("app 'gimp' is in the manifest"));
    CHECK(has("app 'firefox' is in the lock file"));
    CHECK(has("hardware.gpu changed: the lock file has false, the manifest has true"));
    CHECK(
        has("mount 'workspace' changed: the lock file has '~/src:/workspace', the manifest "
            "has '~/src:/workspace:ro'"));
    CHECK(has("mount 'cache' (/var/tmp/c:/cache) is in the manifest"));
    CHECK(has("mount 'data' (/srv/data:/data:ro) is in the lock file but no longer"));
    CHECK(has("runtime.backend changed: the lock file has 'namespace', the manifest has 'oci'"));
    CHECK(has("cpu_shares changed: the lock file has unset, the manifest has 512"));
    CHECK(has("memory_limit_mb changed: the lock file has unset, the manifest has 2048"));
}

TEST_CASE("extra packages in the lock and removed limits count as drift too") {
    NormalizedManifest n = manifest();
    n.cpu_shares = 100;
    LockFile lock = lock_of(n);
    NormalizedManifest now = manifest();
    now.packages = {"curl", "git"};
    auto diffs = manifest_lock_drift(now, lock);
    REQUIRE(diffs.size() == 2);
    CHECK(diffs[0].message == "package 'vim' is in the lock file but no longer in the manifest");
    CHECK(diffs[1].key == "runtime.resource_limits.cpu_shares");
    CHECK(diffs[1].message ==
          "runtime.resource_limits.cpu_shares changed: the lock file has 100, the manifest has "
          "unset");
}

TEST_CASE("installed dependency packages in the lock are not drift") {
    NormalizedManifest n = manifest();
    LockFile lock = lock_of(n);
    lock.packages = {{"git", "1", "amd64"}, {"git-man", "1", "all"}, {"libc6", "2.36", "amd64"}};
    CHECK(manifest_lock_drift(n, lock).empty());
}

TEST_CASE("a changed post_build hook is drift; [env] and on_enter are not") {
    Manifest m;
    m.base_image = "debian/bookworm";
    m.post_build = {"mkdir /a", "mkdir /b"};
    LockFile lock = lock_of(normalize(m));
    CHECK(manifest_lock_drift(normalize(m), lock).empty());

    Manifest session = m;
    session.env = {{"EDITOR", "vim"}};
    session.on_enter = {"echo hi"};
    CHECK(manifest_lock_drift(normalize(session), lock).empty());

    Manifest reordered = m;
    reordered.post_build = {"mkdir /b", "mkdir /a"};
    auto diffs = manifest_lock_drift(normalize(reordered), lock);
    REQUIRE(diffs.size() == 1);
    CHECK(diffs[0].key == "hooks.post_build");
    CHECK(diffs[0].message ==
          "hooks.post_build changed: the lock file has [\"mkdir /a\", \"mkdir /b\"], the "
          "manifest has [\"mkdir /b\", \"mkdir /a\"]");
    Manifest none = m;
    none.post_build.clear();
    diffs = manifest_lock_drift(normalize(none), lock);
    REQUIRE(diffs.size() == 1);
    CHECK(diffs[0].message.find("the manifest has none") != std::string::npos);
}
