#include <catch2/catch.hpp>

#include "karapace/export/desktop_entry.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::exports;

namespace {
const std::string sample = R"(# written by the packager
[Desktop Entry]
Type=Application
Name=Text Editor
Name[de]=Texteditor
Name[sr@latin]=Uređivač
Comment = Edit text files
Exec=gnome-text-editor %U
Actions=new-window;

[Desktop Action new-window]
Name=New Window
Exec=gnome-text-editor --new-window
)";
}

TEST_CASE("a desktop entry renders back byte for byte", "[export][desktop]") {
    auto e = DesktopEntry::parse(sample, "t.desktop");
    auto again = sample;
    again.replace(again.find("Comment = "), 10, "Comment=");  // spaces around '=' are dropped
    CHECK(e.render() == again);
}

TEST_CASE("localised keys are kept apart from the unlocalised one", "[export][desktop]") {
    auto e = DesktopEntry::parse(sample, "t.desktop");
    CHECK(e.get("Desktop Entry", "Name") == "Text Editor");
    CHECK(e.get("Desktop Entry", "Comment") == "Edit text files");
    const auto* g = e.group("Desktop Entry");
    REQUIRE(g != nullptr);
    int names = 0;
    for (const auto& l : g->lines)
        if (l.key == "Name") {
            ++names;
            if (l.locale == "sr@latin") CHECK(l.value == "Uređivač");
        }
    CHECK(names == 3);
    e.remove("Desktop Entry", "Name");
    CHECK_FALSE(e.get("Desktop Entry", "Name"));
    CHECK(e.render().find("Name[de]") == std::string::npos);
}

TEST_CASE("set replaces a key in place and appends a new one after the group's keys",
          "[export][desktop]") {
    auto e = DesktopEntry::parse(sample, "t.desktop");
    e.set("Desktop Entry", "Type", "Application");
    e.set("Desktop Entry", "X-Added", "1");
    auto text = e.render();
    CHECK(text.find("X-Added=1\n\n[Desktop Action new-window]") != std::string::npos);
    CHECK(text.find("Type=Application") < text.find("Name=Text Editor"));
}

TEST_CASE("text that is not a key file is refused with the line", "[export][desktop]") {
    CHECK_THROWS_WITH(DesktopEntry::parse("Name=x\n", "a.desktop"),
                      Catch::Contains("a.desktop, line 1"));
    CHECK_THROWS_WITH(DesktopEntry::parse("[Desktop Entry]\nno equals\n", "a.desktop"),
                      Catch::Contains("line 2"));
    CHECK_THROWS_WITH(DesktopEntry::parse("[A]\n[A]\n", "a.desktop"),
                      Catch::Contains("appears twice"));
    CHECK_THROWS_WITH(DesktopEntry::parse("[A]\nK ey=1\n", "a.desktop"),
                      Catch::Contains("invalid key"));
}

TEST_CASE("a key given twice in a group is refused, so no reader sees another value",
          "[export][desktop]") {
    CHECK_THROWS_WITH(DesktopEntry::parse("[Desktop Entry]\nExec=c\nExec=e", "a.desktop"),
                      Catch::Contains("line 3: key 'Exec' appears twice"));
    CHECK_THROWS_WITH(DesktopEntry::parse("[A]\nName[de]=a\nName[de] = b\n", "a.desktop"),
                      Catch::Contains("appears twice"));
    auto e = DesktopEntry::parse("[A]\nExec=a\nExec[de]=b\n[B]\nExec=c\n", "a.desktop");
    CHECK(e.get("B", "Exec") == "c");
}

TEST_CASE("an entry of a hundred thousand groups is read in one pass", "[export][desktop]") {
    std::string text;
    for (int i = 0; i < 100000; ++i)
        text += "[g" + std::to_string(i) + "]\n";
    CHECK(DesktopEntry::parse(text, "a.desktop").groups().size() == 100000);
    CHECK_THROWS_WITH(DesktopEntry::parse(text + "[g7]\n", "a.desktop"),
                      Catch::Contains("line 100001: group [g7] appears twice"));
}

TEST_CASE("string escapes are undone and redone", "[export][desktop]") {
    CHECK(unescape_value(R"(a\sb\nc\td\\e\;)") == "a b\nc\td\\e\\;");
    CHECK(escape_value("a\\b\nc") == R"(a\\b\nc)");
    CHECK(escape_value(" lead") == R"(\slead)");
    CHECK(split_list(R"(one;two\;three;)") == std::vector<std::string>{"one", "two;three"});
}
