// The parts of karapace-dbus that need no bus and no engine: options, manifest path checks, idle
// accounting, job progress, error names and Build option decoding.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_location.hpp"
#include "encode.hpp"
#include "errors.hpp"
#include "idle.hpp"
#include "job_progress.hpp"
#include "karapace/util/error.hpp"
#include "manifest_path.hpp"
#include "service_options.hpp"

using namespace karapace;
using namespace karapace::dbus;
using namespace std::chrono_literals;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "kp-dbus-test.XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, const std::string& content) const {
        auto p = path / name;
        std::ofstream(p) << content;
        return p.string();
    }
};

Errc category_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    FAIL("no karapace::Error thrown");
    return Errc::failed;
}

}  // namespace

TEST_CASE("the idle timeout defaults to 60 seconds, the environment sets it and the flag wins") {
    CHECK(parse_service_options({}, std::nullopt).idle_timeout == 60s);
    CHECK(parse_service_options({}, std::string("5")).idle_timeout == 5s);
    CHECK(parse_service_options({"--idle-timeout", "2"}, std::string("5")).idle_timeout == 2s);
    CHECK(parse_service_options({"--idle-timeout=0"}, std::nullopt).idle_timeout == 0s);
}

TEST_CASE("service options take a store, a bus address and an output cap") {
    auto o = parse_service_options(
        {"--store", "/s", "--address=unix:path=/b", "--exec-output-cap", "1024"}, std::nullopt);
    CHECK(o.store_root == "/s");
    CHECK(o.bus_address == "unix:path=/b");
    CHECK(o.exec_output_cap == 1024);
    CHECK(parse_service_options({"--version"}, std::nullopt).version);
    CHECK(parse_service_options({"-h"}, std::nullopt).help);
}

TEST_CASE("bad service options are usage errors") {
    for (auto args : std::vector<std::vector<std::string>>{{"--idle-timeout", "soon"},
                                                           {"--idle-timeout", "-1"},
                                                           {"--idle-timeout", "99999999"},
                                                           {"--idle-timeout"},
                                                           {"--store", ""},
                                                           {"--exec-output-cap", "0"},
                                                           {"--frobnicate"}}) {
        CHECK(category_of([&] { parse_service_options(args, std::nullopt); }) == Errc::usage);
    }
    CHECK(category_of([] { parse_service_options({}, std::string("x")); }) == Errc::usage);
}

TEST_CASE("a readable absolute manifest path is accepted as given") {
    TempDir dir;
    auto path = dir.file("karapace.toml", "manifest_version = 1\n");
    CHECK(validate_manifest_path(path) == path);
}

TEST_CASE("relative, dotted, missing, directory, special and oversized manifests are refused") {
    TempDir dir;
    auto path = dir.file("karapace.toml", "manifest_version = 1\n");
    auto big = dir.file("big.toml", std::string(2048, '#'));
    auto fifo = (dir.path / "fifo.toml").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const std::string& bad :
         {std::string(), std::string("karapace.toml"), std::string("./karapace.toml"),
          (dir.path / "." / "karapace.toml").string(), (dir.path / ".." / "x.toml").string(),
          (dir.path / "missing.toml").string(), dir.path.string(), fifo,
          std::string("/dev/null")}) {
        INFO(bad);
        CHECK(category_of([&] { validate_manifest_path(bad); }) == Errc::manifest);
    }
    CHECK(category_of([&] { validate_manifest_path(big, 1024); }) == Errc::manifest);
    CHECK(validate_manifest_path(big, 4096) == big);
}

TEST_CASE("a manifest the user cannot read is refused") {
    if (::geteuid() == 0) {
        WARN("skipped: root reads files whatever their mode");
        return;
    }
    TempDir dir;
    auto path = dir.file("karapace.toml", "manifest_version = 1\n");
    REQUIRE(::chmod(path.c_str(), 0) == 0);
    CHECK(category_of([&] { validate_manifest_path(path); }) == Errc::manifest);
}

TEST_CASE("the service is idle only after the whole timeout with no work in flight") {
    auto t0 = IdleTracker::Clock::time_point{};
    IdleTracker idle(2000ms, t0);
    CHECK_FALSE(idle.expired(t0 + 1999ms));
    CHECK(idle.expired(t0 + 2000ms));
    CHECK(idle.remaining(t0 + 500ms) == 1500ms);

    idle.touch(t0 + 1500ms);
    CHECK_FALSE(idle.expired(t0 + 3000ms));
    CHECK(idle.expired(t0 + 3500ms));

    idle.begin(t0 + 4000ms);
    CHECK_FALSE(idle.expired(t0 + 100s));
    CHECK_FALSE(idle.remaining(t0 + 100s).has_value());
    idle.end(t0 + 100s);
    CHECK_FALSE(idle.expired(t0 + 101s));
    CHECK(idle.expired(t0 + 102s));
}

TEST_CASE("a zero idle timeout never expires") {
    IdleTracker idle(0ms, IdleTracker::Clock::time_point{});
    CHECK_FALSE(idle.expired(IdleTracker::Clock::time_point{} + 1000h));
    CHECK_FALSE(idle.remaining().has_value());
}

TEST_CASE("busy guards count nested work") {
    IdleTracker idle(1ms);
    {
        BusyGuard a(idle);
        BusyGuard b(std::move(a));
        BusyGuard c(idle);
        CHECK(idle.busy() == 2);
    }
    CHECK(idle.busy() == 0);
}

TEST_CASE("job progress reports steps and percentages and wakes the loop once per batch") {
    int wakes = 0;
    JobProgress progress([&] { ++wakes; });
    CHECK(progress.percent() == -1);
    progress.step("downloading image", 200, ProgressUnit::bytes);
    progress.advance(50);
    progress.advance(51);  // still 25 %: no new change
    progress.advance(100);
    CHECK(wakes == 1);
    CHECK(progress.current_step() == "downloading image");
    CHECK(progress.percent() == 50);
    auto changes = progress.take();
    CHECK(changes.properties == std::vector<std::string>{"Step", "Progress"});

    progress.advance(100);
    CHECK(wakes == 1);      // nothing changed
    progress.advance(500);  // more than the total is clamped
    CHECK(progress.percent() == 100);
    CHECK(wakes == 2);
    CHECK(progress.take().properties == std::vector<std::string>{"Progress"});

    progress.step("installing packages", 0, ProgressUnit::items);
    CHECK(progress.percent() == -1);
    progress.note("Setting up busybox");
    changes = progress.take();
    CHECK(changes.properties == std::vector<std::string>{"Step", "Progress"});
    CHECK(changes.notes == std::vector<std::string>{"Setting up busybox"});
    CHECK(wakes == 3);
}

TEST_CASE("a finished step with a known size is at 100 percent") {
    JobProgress progress(nullptr);
    progress.step("packing", 10, ProgressUnit::items);
    progress.advance(3);
    progress.finish(true);
    CHECK(progress.percent() == 100);
    progress.step("checking", 10, ProgressUnit::items);
    progress.finish(false);
    CHECK(progress.percent() == 0);
}

TEST_CASE("waiting for the store lock becomes the job's step") {
    JobProgress progress(nullptr);
    progress.waiting_for_lock("waiting for store lock (held by pid 42)");
    CHECK(progress.current_step() == "waiting for store lock (held by pid 42)");
    CHECK(progress.percent() == -1);
}

TEST_CASE("cancelling a job is visible to the engine through the sink") {
    JobProgress progress(nullptr);
    ProgressSink& sink = progress;
    CHECK_FALSE(sink.cancelled());
    progress.cancel();
    CHECK(sink.cancelled());
}

TEST_CASE("engine error categories become org.karapace.Error names with message and hint") {
    auto name_of = [](Errc code) {
        return to_dbus_error(std::make_exception_ptr(Error(code, "m", "h"))).getName();
    };
    CHECK(name_of(Errc::not_found) == "org.karapace.Error.NotFound");
    CHECK(name_of(Errc::manifest) == "org.karapace.Error.InvalidManifest");
    CHECK(name_of(Errc::conflict) == "org.karapace.Error.Conflict");
    CHECK(name_of(Errc::busy) == "org.karapace.Error.Busy");
    CHECK(name_of(Errc::store) == "org.karapace.Error.StoreCorrupt");
    CHECK(name_of(Errc::permission) == "org.karapace.Error.PermissionDenied");
    CHECK(name_of(Errc::runtime) == "org.karapace.Error.Failed");
    auto e = to_dbus_error(std::make_exception_ptr(
        Error(Errc::not_found, "no environment 'x'", "list them: karapace list")));
    CHECK(e.getMessage() == "no environment 'x'; list them: karapace list");
    CHECK(to_dbus_error(std::make_exception_ptr(std::runtime_error("boom"))).getName() ==
          "org.karapace.Error.Failed");
    CHECK(to_dbus_error(std::make_exception_ptr(sdbus::Error("a.b.C", "x"))).getName() == "a.b.C");
}

TEST_CASE("build options decode from a{sv} and refuse unknown keys and wrong types") {
    ResultMap options;
    options["name"] = std::string("web");
    options["locked"] = true;
    options["offline"] = true;
    auto build = decode_build_options("/p/karapace.toml", options);
    CHECK(build.manifest_path == "/p/karapace.toml");
    CHECK(build.name == std::optional<std::string>("web"));
    CHECK(build.locked);
    CHECK(build.offline);
    CHECK_FALSE(build.require_pinned_image);
    CHECK_FALSE(decode_build_options("/p", {}).name.has_value());

    ResultMap unknown;
    unknown["colour"] = std::string("red");
    CHECK(category_of([&] { decode_build_options("/p", unknown); }) == Errc::usage);
    ResultMap mistyped;
    mistyped["locked"] = std::string("yes");
    CHECK(category_of([&] { decode_build_options("/p", mistyped); }) == Errc::usage);
}

TEST_CASE("environment records keep field order and count sessions") {
    core::EnvSummary env{"id", "short", "web", "built", "debian/bookworm", "c", "u", 2};
    auto record = encode_summary(env);
    CHECK(record.get<0>() == "id");
    CHECK(record.get<2>() == "web");
    CHECK(record.get<3>() == "built");
    CHECK(record.get<7>() == 2u);
}

TEST_CASE("a rebuild result names the environment it replaced") {
    core::BuildResult result{"new", "n", "", false, "/p/karapace.lock", std::string("old")};
    auto map = encode_build(result);
    CHECK(map.at("env_id").get<std::string>() == "new");
    CHECK(map.at("replaced_env_id").get<std::string>() == "old");
    CHECK_FALSE(map.at("reused").get<bool>());
    result.replaced_env_id.reset();
    CHECK(encode_build(result).count("replaced_env_id") == 0);
    CHECK_FALSE(map.at("session_updated").get<bool>());
}

TEST_CASE("environment details carry the manifest's [env] and hooks") {
    core::EnvDetails details;
    details.env = {{"EDITOR", "vim"}, {"PATH", "$HOME/bin:$PATH"}};
    details.post_build = {"mkdir /opt/a"};
    details.on_enter = {"echo one", "echo two"};
    auto map = encode_details(details);
    CHECK(map.at("env").get<std::map<std::string, std::string>>() ==
          std::map<std::string, std::string>{{"EDITOR", "vim"}, {"PATH", "$HOME/bin:$PATH"}});
    CHECK(map.at("post_build").get<std::vector<std::string>>() == details.post_build);
    CHECK(map.at("on_enter").get<std::vector<std::string>>() == details.on_enter);
}

TEST_CASE("the service looks for karapace beside itself, in its prefix's bindir, then PATH") {
    CliSearch s{"/opt/kp/libexec/karapace-dbus", "/usr/local", "bin", "libexec",
                "relative/dir:/usr/bin::/opt/kp/libexec"};
    auto c = cli_candidates(s);
    REQUIRE(c == std::vector<std::string>{"/opt/kp/libexec/karapace", "/opt/kp/bin/karapace",
                                          "/usr/local/bin/karapace", "/usr/bin/karapace"});
    auto found = find_cli(s, [](const std::string& p) { return p == "/usr/local/bin/karapace"; });
    REQUIRE(found == std::optional<std::string>("/usr/local/bin/karapace"));
    REQUIRE_FALSE(find_cli(s, [](const std::string&) { return false; }));
}

TEST_CASE("an absolute bindir is used as configured and a foreign layout adds no guess") {
    CliSearch s{"/somewhere/else/karapace-dbus", "/usr", "/opt/bin", "lib/karapace", ""};
    REQUIRE(cli_candidates(s) ==
            std::vector<std::string>{"/somewhere/else/karapace", "/opt/bin/karapace"});
}

TEST_CASE("no karapace anywhere is an error that names where it looked") {
    TempDir dir;
    CliSearch s{(dir.path / "libexec/karapace-dbus").string(), dir.path.string(), "bin", "libexec",
                (dir.path / "empty").string()};
    try {
        locate_cli(s);
        FAIL("locate_cli found a karapace that does not exist");
    } catch (const karapace::Error& e) {
        REQUIRE(e.code() == Errc::not_found);
        REQUIRE(std::string(e.what()).find((dir.path / "bin/karapace").string()) !=
                std::string::npos);
    }
    auto bin = dir.path / "bin";
    std::filesystem::create_directories(bin);
    dir.file("bin/karapace", "#!/bin/sh\n");
    ::chmod((bin / "karapace").c_str(), 0755);
    REQUIRE(locate_cli(s) == (bin / "karapace").string());
}
