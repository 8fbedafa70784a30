#include <catch2/catch.hpp>

#include "karapace/export/bin_wrapper.hpp"
#include "karapace/export/launcher.hpp"
#include "karapace/export/record.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/process.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::exports;
using namespace karapace::exports::test;

TEST_CASE("commands resolve through the environment's PATH to executable files", "[export][bin]") {
    TempDir t;
    put(t / "base/usr/bin/busybox", "x", 0755);
    link_to(t / "base/bin", "usr/bin");
    link_to(t / "base/usr/bin/rev", "busybox");
    put(t / "base/usr/local/bin/tool", "x", 0755);
    put(t / "base/usr/bin/data", "x", 0644);
    MergedTree tree({t / "upper", t / "base"});
    CHECK(resolve_command(tree, "tool") == "/usr/local/bin/tool");
    CHECK(resolve_command(tree, "rev") == "/usr/bin/rev");
    CHECK(resolve_command(tree, "/bin/rev") == "/bin/rev");
    CHECK_FALSE(resolve_command(tree, "data"));
    CHECK_FALSE(resolve_command(tree, "nothing"));
    CHECK_THROWS_AS(resolve_command(tree, "../usr/bin/rev"), Error);
}

TEST_CASE("a command name is looked up in the PATH given, relative entries skipped",
          "[export][bin]") {
    TempDir t;
    put(t / "base/opt/tool/bin/tool", "x", 0755);
    put(t / "base/usr/bin/tool", "x", 0755);
    put(t / "base/rel/other", "x", 0755);
    MergedTree tree({t / "base"});
    CHECK(resolve_command(tree, "tool") == "/usr/bin/tool");
    CHECK(resolve_command(tree, "tool", "/opt/tool/bin:/usr/bin") == "/opt/tool/bin/tool");
    CHECK(resolve_command(tree, "tool", ":/usr/bin") == "/usr/bin/tool");
    CHECK_FALSE(resolve_command(tree, "other", "rel:"));
}

TEST_CASE("a wrapper passes its arguments and the exit status through", "[export][bin]") {
    TempDir t;
    // A stand-in for karapace that shows the command line it was given.
    put(t / "karapace", "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\nexit 7\n",
        0755);
    LaunchTarget target{std::string(64, 'b'), "it's", t / "karapace", "/store with space"};
    put(t / "wrapper", wrapper_script("/usr/bin/my tool", target), 0755);
    auto r = run_process({t / "wrapper", "one two", "", "$HOME", "'q'"});
    CHECK(r.status == 7);
    CHECK(r.out == "[--store][/store with space][exec][" + std::string(64, 'b') +
                       "][--][/usr/bin/my tool][one two][][$HOME]['q']");
    CHECK_THAT(read_file(t / "wrapper"), Catch::Contains("X-Karapace-Env=" + std::string(64, 'b')));
    CHECK(exported_env_of(read_file(t / "wrapper")) == std::string(64, 'b'));
}

TEST_CASE("inside its own environment a wrapper runs the command directly", "[export][bin]") {
    TempDir t;
    put(t / "tool", "#!/bin/sh\necho direct \"$@\"\n", 0755);
    LaunchTarget target{std::string(64, 'b'), "dev", "/nonexistent/karapace", "/s"};
    put(t / "wrapper", wrapper_script(t / "tool", target), 0755);
    RunOptions o;
    o.env =
        std::vector<std::string>{"PATH=/usr/bin:/bin", "container=karapace", "KARAPACE_ENV=dev"};
    auto r = run_process({t / "wrapper", "x"}, o);
    CHECK(r.status == 0);
    CHECK(r.out == "direct x\n");
}

TEST_CASE("the export record round-trips and refuses tampering", "[export][record]") {
    TempDir t;
    auto path = t / "exports.json";
    CHECK(read_record(path).empty());
    std::vector<RecordItem> items{
        {"app",
         "org.x.App",
         "/usr/share/applications/org.x.App.desktop",
         "/h/.local/share",
         {"/h/.local/share/applications/karapace-dev-org.x.App.desktop"}},
        {"bin", "rg", "/usr/bin/rg", "/h/.local/bin", {"/h/.local/bin/rg"}}};
    write_record(path, items);
    auto back = read_record(path);
    REQUIRE(back.size() == 2);
    CHECK(back[0].name == "org.x.App");
    CHECK(back[1].files == std::vector<std::string>{"/h/.local/bin/rg"});
    auto text = read_file(path);
    text.replace(text.find("/usr/bin/rg"), 11, "/usr/bin/xx");
    put(path, text);
    CHECK_THROWS_WITH(read_record(path), Catch::Contains("checksum"));
    write_record(path, {});
    CHECK(::access(path.c_str(), F_OK) != 0);
}
