#include <catch2/catch.hpp>

#include "karapace/export/exec_line.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::exports;

namespace {
std::vector<std::string> texts(const std::vector<ExecArg>& args) {
    std::vector<std::string> out;
    for (const auto& a : args)
        out.push_back(a.text);
    return out;
}
}  // namespace

TEST_CASE("Exec splits at spaces and honours double quotes and their escapes", "[export][exec]") {
    auto args = split_exec(R"(app --title "Big \"quoted\" \$HOME \\ \`x\`" %U)", "t");
    CHECK(texts(args) ==
          std::vector<std::string>{"app", "--title", R"(Big "quoted" $HOME \ `x`)", "%U"});
    CHECK_FALSE(args[2].field_code);
    CHECK(args[3].field_code);
}

TEST_CASE("single quotes common in the wild are read like a shell", "[export][exec]") {
    CHECK(texts(split_exec("sh -c 'echo a  b' %f", "t")) ==
          std::vector<std::string>{"sh", "-c", "echo a  b", "%f"});
}

TEST_CASE("a bad Exec is refused", "[export][exec]") {
    CHECK_THROWS_WITH(split_exec("app \"open", "x.desktop"), Catch::Contains("unterminated"));
    CHECK_THROWS_WITH(split_exec("   ", "x.desktop"), Catch::Contains("no program"));
    CHECK_THROWS_WITH(split_exec("%U", "x.desktop"), Catch::Contains("no program"));
}

TEST_CASE("deprecated and unknown field codes are dropped, current ones and %% kept",
          "[export][exec]") {
    auto args = drop_obsolete_codes(split_exec("app %d %m --at=%k 100%% %x %i %c %F", "t"));
    CHECK(texts(args) == std::vector<std::string>{"app", "--at=%k", "100%%", "%i", "%c", "%F"});
}

TEST_CASE("joining quotes reserved characters and leaves field codes bare", "[export][exec]") {
    std::vector<ExecArg> args{literal_arg("/opt/my app/karapace"), literal_arg("--store"),
                              literal_arg("/s/100%"), literal_arg(""), literal_arg("a\"b$c`d\\e")};
    args.push_back({"%U", true});
    auto line = join_exec(args);
    CHECK(line == R"("/opt/my app/karapace" --store /s/100%% "" "a\"b\$c\`d\\e" %U)");
    // What a launcher reads back is what was meant.
    auto back = split_exec(line, "t");
    CHECK(expand_exec(back, {"/f 1", "/f2"}) ==
          std::vector<std::string>{"/opt/my app/karapace", "--store", "/s/100%", "", "a\"b$c`d\\e",
                                   "/f 1", "/f2"});
}

TEST_CASE("a quoted field code is text and stays quoted when joined", "[export][exec]") {
    auto args = split_exec(R"(app "%U" %U)", "t");
    REQUIRE(args.size() == 3);
    CHECK_FALSE(args[1].field_code);
    CHECK(args[2].field_code);
    auto line = join_exec(args);
    CHECK(line == R"(app "%U" %U)");
    auto back = split_exec(line, "t");
    CHECK_FALSE(back[1].field_code);
    CHECK(back[2].field_code);
}

TEST_CASE("field codes expand as a launcher expands them", "[export][exec]") {
    auto args = split_exec("app %f --icon-from %i --name=%c %k %u", "t");
    CHECK(expand_exec(args, {"/a", "/b"}, "ic", "Nm", "/l.desktop") ==
          std::vector<std::string>{"app", "/a", "--icon-from", "--icon", "ic", "--name=Nm",
                                   "/l.desktop", "/a"});
    CHECK(expand_exec(split_exec("app %U %i", "t"), {}) == std::vector<std::string>{"app"});
}
