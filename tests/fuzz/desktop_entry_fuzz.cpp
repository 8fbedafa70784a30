// libFuzzer target for desktop entries taken from an environment: the key file parser, the Exec
// line splitter and joiner, and the launcher rewrite. Besides raising only karapace::Error, the
// results must hold: a rendered entry reads back the same, a joined Exec line splits back into
// the same arguments, and every Exec of a launcher goes through karapace.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "invariant.hpp"
#include "karapace/export/desktop_entry.hpp"
#include "karapace/export/exec_line.hpp"
#include "karapace/export/launcher.hpp"
#include "karapace/util/error.hpp"

namespace {

using karapace::fuzz::require;

using namespace karapace::exports;

bool same_args(const std::vector<ExecArg>& a, const std::vector<ExecArg>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].text != b[i].text || a[i].field_code != b[i].field_code) return false;
    return true;
}

void check_exec(const std::string& raw) {
    std::vector<ExecArg> args;
    try {
        args = split_exec(unescape_value(raw), "fuzz.desktop");
    } catch (const karapace::Error&) {
        return;
    }
    auto joined = escape_value(join_exec(args));
    require(same_args(split_exec(unescape_value(joined), "joined"), args),
            "a joined Exec line splits back into the same arguments");
    (void)expand_exec(args, {"/tmp/a b", "file:///c%20d"}, "icon", "Name", "/x.desktop");
    (void)expand_exec(drop_obsolete_codes(args), {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto entry = DesktopEntry::parse(text, "fuzz.desktop");
        auto rendered = entry.render();
        require(DesktopEntry::parse(rendered, "rendered").render() == rendered,
                "a rendered entry reads back the same");
        for (const auto& g : entry.groups()) {
            for (const auto& l : g.lines) {
                if (l.key == "Exec") check_exec(l.value);
                if (l.key == "Actions") (void)split_list(l.value);
            }
        }

        AppEntry app{"org.example.App", "/usr/share/applications/org.example.App.desktop", entry};
        LaunchTarget target{"0123456789abcdef", "web", "/usr/bin/karapace", "/var/lib/karapace"};
        auto launcher = make_launcher(app, target, "/icons/karapace-web-org.example.App.png");
        auto out = launcher.render();
        auto back = DesktopEntry::parse(out, "launcher");
        require(back.render() == out, "a launcher reads back the same");
        for (const auto& g : back.groups())
            for (const auto& l : g.lines)
                if (l.key == "Exec")
                    require(split_exec(unescape_value(l.value), "launcher").front().text ==
                                target.program,
                            "every Exec of a launcher runs karapace");
        require(exported_env_of(out) == target.env_id, "the launcher records its environment");
    } catch (const karapace::Error&) {}
    return 0;
}
