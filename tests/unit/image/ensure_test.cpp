#include <catch2/catch.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "fixture.hpp"
#include "karapace/image/inventory.hpp"
#include "karapace/image/resolve.hpp"
#include "karapace/sandbox/userns.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/process.hpp"

using namespace karapace::image;
using image_test::FixtureServer;
using image_test::TempDir;

namespace {

Config config_for(const std::string& server) {
    Config c;
    c.server = server;
    c.arch = image_test::fixtures().arch;
    c.download.backoff = std::chrono::milliseconds(10);
    c.download.attempts = 2;
    c.download.connect_timeout = std::chrono::seconds(5);
    return c;
}

std::string newest_url(const std::string& server) {
    return server + "/images/busybox/1.36/" + image_test::fixtures().arch +
           "/default/20261128_00:00/rootfs.tar.xz";
}

karapace::Digest busybox_digest() { return karapace::sha256_file(image_test::fixtures().tarball); }

std::vector<std::string> names_in(const std::string& dir) {
    auto r = karapace::run_process({"ls", "-A", dir});
    std::vector<std::string> names;
    std::istringstream in(r.out);
    std::string n;
    while (std::getline(in, n))
        if (!n.empty()) names.push_back(n);
    return names;
}

// Image directories (64 hex names) in the cache.
std::size_t image_count(const std::string& store) {
    std::size_t n = 0;
    for (const auto& name : names_in(store + "/images"))
        if (karapace::Digest::is_hex(name)) ++n;
    return n;
}

// A tarball built by python's tarfile from (name, type, target-or-content) rows.
std::string hostile_tar(const std::string& dir, const std::string& rows_python) {
    const std::string out = dir + "/hostile.tar";
    auto r = karapace::run_process(
        {"python3", "-c",
         "import io, sys, tarfile\n"
         "rows = " +
             rows_python +
             "\n"
             "with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:\n"
             "    for name, kind, data in rows:\n"
             "        i = tarfile.TarInfo(name)\n"
             "        if kind == 'f':\n"
             "            i.size = len(data); t.addfile(i, io.BytesIO(data.encode()))\n"
             "        elif kind == 'l':\n"
             "            i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)\n"
             "        else:\n"
             "            i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)\n",
         out});
    REQUIRE(r.ok());
    return out;
}

}  // namespace

TEST_CASE("an alias is resolved on the server, verified, extracted and recorded") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir store;
    auto img = ensure(ImageRef::parse("busybox/1.36"), store.path(), config_for(server.url()),
                      karapace::null_progress(), false);
    CHECK(img.record.digest == busybox_digest());
    CHECK(img.rootfs == store.path() + "/images/" + busybox_digest().hex() + "/rootfs");
    CHECK(img.record.pinned_reference ==
          newest_url(server.url()) + "#sha256=" + busybox_digest().hex());
    CHECK(img.record.reference == "busybox/1.36");
    CHECK(img.record.source == "lxc");
    CHECK(img.record.build == "20261128_00:00");
    CHECK(img.record.size == image_test::read_text(fx.tarball).size());
    CHECK(image_test::exists(img.rootfs + "/bin/busybox"));
    CHECK(image_test::read_text(img.rootfs + "/etc/os-release").find("ID=busybox") !=
          std::string::npos);
    CHECK(image_test::exists(img.dir + "/image.json"));
    // Nothing left behind: no staging directory, no downloaded tarball.
    for (const auto& name : names_in(store.path() + "/images"))
        CHECK_FALSE(name.starts_with(".tmp-"));
    CHECK(names_in(store.path() + "/images/downloads").empty());
    if (::geteuid() == 0) {
        struct stat st {};
        REQUIRE(::lstat((img.rootfs + "/home/user").c_str(), &st) == 0);
        CHECK(st.st_uid == 1000);
        CHECK(st.st_gid == 1000);
        REQUIRE(::lstat((img.rootfs + "/etc/shadow").c_str(), &st) == 0);
        CHECK(st.st_gid == 42);
        CHECK((st.st_mode & 07777) == 0640);
    }
}

TEST_CASE("a cached image needs no network: pinned references and offline aliases") {
    const auto& fx = image_test::fixtures();
    TempDir store;
    std::string pinned;
    {
        FixtureServer server(fx.tree);
        auto cfg = config_for(server.url());
        pinned = pinned_reference(ImageRef::parse("busybox/1.36"), store.path(), cfg,
                                  karapace::null_progress());
        (void)ensure(ImageRef::parse("busybox/1.36"), store.path(), cfg, karapace::null_progress(),
                     false);
        server.stop();
        auto again =
            ensure(ImageRef::parse(pinned), store.path(), cfg, karapace::null_progress(), false);
        CHECK(again.record.digest == busybox_digest());
        auto offline = ensure(ImageRef::parse("busybox/1.36"), store.path(), cfg,
                              karapace::null_progress(), true);
        CHECK(offline.record.digest == busybox_digest());
        // Online, an alias asks the server for its newest build, which is down now.
        CHECK_THROWS_AS(ensure(ImageRef::parse("busybox/1.36"), store.path(), cfg,
                               karapace::null_progress(), false),
                        karapace::Error);
    }
    try {
        (void)ensure(ImageRef::parse("busybox/1.35"), store.path(),
                     config_for("http://127.0.0.1:1"), karapace::null_progress(), true);
        FAIL("offline ensure of an uncached image succeeded");
    } catch (const karapace::Error& e) {
        CHECK(e.code() == karapace::Errc::image);
        CHECK(std::string(e.what()).find("busybox/1.35") != std::string::npos);
        CHECK(std::string(e.what()).find("not cached") != std::string::npos);
    }
}

TEST_CASE("resolving the pinned reference gives the same digest") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir store;
    auto cfg = config_for(server.url());
    auto alias = ImageRef::parse("busybox/1.36");
    auto resolved = resolve(alias, cfg, karapace::null_progress());
    REQUIRE(resolved.digest);
    CHECK(*resolved.digest == busybox_digest());
    CHECK(server.count("rootfs.tar.xz") == 0);  // resolving reads the catalogue only
    auto pinned = ImageRef::parse(resolved.pinned_reference);
    CHECK(pinned.is_pinned());
    auto from_pin = ensure(pinned, store.path(), cfg, karapace::null_progress(), false);
    auto from_alias = ensure(alias, store.path(), cfg, karapace::null_progress(), false);
    CHECK(from_pin.record.digest == *resolved.digest);
    CHECK(from_alias.record.digest == *resolved.digest);
    CHECK(server.count("rootfs.tar.xz") == 1);
}

TEST_CASE("an unpinned URL is pinned to the sha256 of what it served") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir store;
    auto cfg = config_for(server.url());
    const std::string url = newest_url(server.url());
    auto pinned =
        pinned_reference(ImageRef::parse(url), store.path(), cfg, karapace::null_progress());
    CHECK(pinned == url + "#sha256=" + busybox_digest().hex());
    CHECK(image_count(store.path()) == 1);
}

TEST_CASE("a tarball that does not match the catalogue's sha256 is refused and nothing is cached") {
    const auto& fx = image_test::fixtures();
    TempDir tmp;
    const std::string tree = tmp.path() + "/tree";
    image_test::copy_tree(fx.tree, tree);
    const std::string file =
        tree + "/images/busybox/1.36/" + fx.arch + "/default/20261128_00:00/rootfs.tar.xz";
    {
        // Same size, one byte different.
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(1000);
        char c = 0;
        f.read(&c, 1);
        f.seekp(1000);
        c = static_cast<char>(c ^ 0x55);
        f.write(&c, 1);
    }
    FixtureServer server(tree);
    TempDir store;
    try {
        (void)ensure(ImageRef::parse("busybox/1.36"), store.path(), config_for(server.url()),
                     karapace::null_progress(), false);
        FAIL("a tampered tarball was accepted");
    } catch (const karapace::Error& e) {
        CHECK(e.code() == karapace::Errc::image);
        CHECK(std::string(e.what()).find("sha256 mismatch") != std::string::npos);
    }
    CHECK(image_count(store.path()) == 0);
    for (const auto& name : names_in(store.path() + "/images"))
        CHECK_FALSE(name.starts_with(".tmp-"));
    CHECK(names_in(store.path() + "/images/downloads").empty());
}

TEST_CASE("two processes ensuring the same image download it once") {
    const auto& fx = image_test::fixtures();
    // The delay keeps the first download going while the second process arrives.
    FixtureServer server(fx.tree, {"--delay", "rootfs.tar.xz=1"});
    TempDir store;
    auto cfg = config_for(server.url());
    std::vector<pid_t> children;
    for (int i = 0; i < 2; ++i) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int code = 1;
            try {
                auto img = ensure(ImageRef::parse("busybox/1.36"), store.path(), cfg,
                                  karapace::null_progress(), false);
                code = img.record.digest == busybox_digest() ? 0 : 2;
            } catch (...) {
                code = 3;
            }
            ::_exit(code);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    CHECK(server.count("GET " + newest_url("").substr(0)) == 1);
    CHECK(server.count("rootfs.tar.xz") == 1);
    CHECK(image_count(store.path()) == 1);
}

TEST_CASE("hostile tarballs are refused and leave nothing behind") {
    TempDir tmp;
    TempDir store;
    const std::vector<std::string> cases{
        "[('etc', 'd', ''), ('../escape', 'f', 'x')]",
        "[('etc', 'd', ''), ('/abs', 'f', 'x')]",
        "[('etc', 'l', '" + tmp.path() + "'), ('etc/planted', 'f', 'x')]",
    };
    for (const auto& rows : cases) {
        INFO(rows);
        auto tar = hostile_tar(tmp.path(), rows);
        auto ref = ImageRef::parse("file://" + tar + "#sha256=" + karapace::sha256_file(tar).hex());
        CHECK_THROWS_AS(ensure(ref, store.path(), config_for("http://127.0.0.1:1"),
                               karapace::null_progress(), false),
                        karapace::Error);
        CHECK(image_count(store.path()) == 0);
        CHECK_FALSE(image_test::exists(tmp.path() + "/planted"));
        CHECK_FALSE(image_test::exists(store.path() + "/images/escape"));
        for (const auto& name : names_in(store.path() + "/images"))
            CHECK_FALSE(name.starts_with(".tmp-"));
    }
}

TEST_CASE("cached images are listed with their users and removed unless in use") {
    const auto& fx = image_test::fixtures();
    TempDir store;
    auto ref = ImageRef::parse("file://" + fx.tarball);
    auto img = ensure(ref, store.path(), config_for("http://127.0.0.1:1"),
                      karapace::null_progress(), false);
    CHECK(img.record.pinned_reference ==
          "file://" + fx.tarball + "#sha256=" + busybox_digest().hex());
    const std::string env(64, 'e');
    std::vector<ImageUse> uses{{env, img.record.digest}};
    auto listing = list_images(store.path(), uses);
    REQUIRE(listing.size() == 1);
    CHECK(listing[0].users == std::vector<std::string>{env});
    auto json = listing_json(listing[0]);
    CHECK(json.at("digest").as_string() == busybox_digest().str());
    CHECK(json.at("users").as_array().size() == 1);

    CHECK(find_cached_image(store.path(), busybox_digest().hex().substr(0, 8)).record.digest ==
          busybox_digest());
    CHECK(find_cached_image(store.path(), "file://" + fx.tarball).record.digest ==
          busybox_digest());
    CHECK_THROWS_AS(find_cached_image(store.path(), "debian/bookworm"), karapace::Error);
    try {
        (void)remove_image(store.path(), busybox_digest().str(), uses);
        FAIL("removed an image in use");
    } catch (const karapace::Error& e) {
        CHECK(e.code() == karapace::Errc::conflict);
        CHECK(std::string(e.what()).find(env.substr(0, 12)) != std::string::npos);
    }
    auto removed = remove_image(store.path(), busybox_digest().str(), {});
    CHECK(removed.digest == busybox_digest());
    CHECK(image_count(store.path()) == 0);
    CHECK(list_images(store.path(), {}).empty());
    CHECK_THROWS_AS(ensure(ref, store.path(), config_for("http://127.0.0.1:1"),
                           karapace::null_progress(), true),
                    karapace::Error);
}

TEST_CASE("an unprivileged user's extraction keeps ownership inside the user namespace") {
    // As root the test becomes a user that has a sub-id range; as such a user it runs as itself.
    std::string user;
    std::string self = ::getpwuid(::geteuid()) ? ::getpwuid(::geteuid())->pw_name : "";
    {
        std::ifstream subuid("/etc/subuid");
        std::string line;
        while (std::getline(subuid, line) && user.empty()) {
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            if (::geteuid() == 0 ? ::getpwnam(name.c_str()) != nullptr : name == self) user = name;
        }
    }
    if (user.empty()) {
        WARN("skipped: no user with a range in /etc/subuid to run the unprivileged extraction");
        return;
    }
    if (!karapace::find_program("newuidmap")) {
        WARN("skipped: newuidmap (package uidmap) is missing");
        return;
    }
    struct passwd* pw = ::getpwnam(user.c_str());
    REQUIRE(pw);
    const auto& fx = image_test::fixtures();
    TempDir tmp;
    const std::string store = tmp.path() + "/store";
    ::mkdir(store.c_str(), 0755);
    if (::geteuid() == 0) {
        REQUIRE(::chown(tmp.path().c_str(), pw->pw_uid, pw->pw_gid) == 0);
        REQUIRE(::chown(store.c_str(), pw->pw_uid, pw->pw_gid) == 0);
    }
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        int code = 10;
        try {
            if (::geteuid() == 0) {
                if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
                    ::_exit(11);
                ::setenv("HOME", pw->pw_dir, 1);
            }
            auto ref = ImageRef::parse("file://" + fx.tarball);
            auto img = ensure(ref, store, config_for("http://127.0.0.1:1"),
                              karapace::null_progress(), false);
            // Look at the tree from inside the namespace, as the sandbox will.
            code = karapace::sandbox::run_in_userns(
                [&] {
                    struct stat home {
                    }, shadow{}, busybox{};
                    if (::lstat((img.rootfs + "/home/user").c_str(), &home) != 0) return 20;
                    if (::lstat((img.rootfs + "/etc/shadow").c_str(), &shadow) != 0) return 21;
                    if (::lstat((img.rootfs + "/bin/busybox").c_str(), &busybox) != 0) return 22;
                    if (home.st_uid != 1000 || home.st_gid != 1000) return 23;
                    if (shadow.st_uid != 0 || shadow.st_gid != 42) return 24;
                    if (busybox.st_uid != 0) return 25;
                    return 0;
                },
                karapace::sandbox::IdMapping::container_root);
            // The removal also has to happen inside the namespace.
            (void)remove_image(store, img.record.digest.str(), {});
        } catch (const std::exception& e) {
            std::string msg = e.what();
            (void)!::write(fds[1], msg.data(), msg.size());
            code = 12;
        }
        ::_exit(code);
    }
    ::close(fds[1]);
    std::string err;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        err.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("child error: " << err);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(image_count(store) == 0);
}

TEST_CASE("the same bytes fetched under two names are cached once, each with its own pin") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir store;
    auto cfg = config_for(server.url());
    auto by_alias = ensure(ImageRef::parse("busybox/1.36"), store.path(), cfg,
                           karapace::null_progress(), false);
    auto by_file = ensure(ImageRef::parse("file://" + fx.tarball), store.path(), cfg,
                          karapace::null_progress(), false);
    CHECK(by_alias.record.digest == by_file.record.digest);
    CHECK(by_alias.rootfs == by_file.rootfs);
    CHECK(image_count(store.path()) == 1);
    CHECK(by_alias.record.pinned_reference.starts_with(server.url()));
    CHECK(by_file.record.pinned_reference ==
          "file://" + fx.tarball + "#sha256=" + busybox_digest().hex());
    auto again = ensure(ImageRef::parse("file://" + fx.tarball), store.path(), cfg,
                        karapace::null_progress(), false);
    CHECK(again.record.pinned_reference == by_file.record.pinned_reference);
}
