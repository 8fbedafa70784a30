#include "karapace/export/launcher.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "karapace/export/exec_line.hpp"
#include "karapace/export/names.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/text.hpp"

namespace karapace::exports {

namespace {

constexpr std::string_view main_group = "Desktop Entry";
constexpr std::string_view action_prefix = "Desktop Action ";
constexpr std::size_t max_entry_bytes = 1u << 20;
constexpr std::string_view env_marker = "X-Karapace-Env=";

// Only the marker this module writes may name an environment: a comment or an action's key of
// the entry that carried one would make the launcher look like another environment's, or nobody's.
bool carries_marker(std::string_view text) {
    return text.find(env_marker.substr(0, env_marker.size() - 1)) != std::string_view::npos;
}

struct Candidate {
    std::string id, rel;
};

// Every *.desktop below the application directories, ids per the specification (subdirectory
// separators become '-'); a directory earlier in the list shadows the same id later.
void collect(const MergedTree& tree, const std::string& dir, const std::string& id_prefix,
             std::vector<Candidate>& out, int depth) {
    if (depth > 4) return;
    for (const auto& name : tree.list(dir)) {
        auto rel = dir + "/" + name;
        auto e = tree.find(rel);
        if (!e) continue;
        if (S_ISDIR(e->st.st_mode)) {
            collect(tree, rel, id_prefix + name + "-", out, depth + 1);
            continue;
        }
        if (!S_ISREG(e->st.st_mode) || !name.ends_with(".desktop")) continue;
        auto id = id_prefix + name.substr(0, name.size() - 8);
        if (!valid_app_name(id)) continue;
        bool shadowed =
            std::any_of(out.begin(), out.end(), [&](const Candidate& c) { return c.id == id; });
        if (!shadowed) out.push_back({id, rel});
    }
}

std::optional<AppEntry> load(const MergedTree& tree, const Candidate& c) {
    auto e = tree.find(c.rel);
    if (!e) return std::nullopt;
    AppEntry app;
    app.id = c.id;
    app.source = "/" + c.rel;
    try {
        app.entry = DesktopEntry::parse(read_file_limited(e->path, max_entry_bytes), app.source);
    } catch (const Error& err) {
        log::warn("skipping ", app.source, ": ", err.what());
        return std::nullopt;
    }
    auto type = app.entry.get(main_group, "Type");
    auto hidden = app.entry.get(main_group, "Hidden");
    if (!type || *type != "Application" || (hidden && *hidden == "true")) return std::nullopt;
    return app;
}

std::string exec_program(const AppEntry& app) {
    auto exec = app.entry.get(main_group, "Exec");
    if (!exec) return {};
    try {
        auto args = split_exec(unescape_value(*exec), app.source);
        auto p = args.front().text;
        return p.substr(p.rfind('/') + 1);
    } catch (const Error&) {
        return {};
    }
}

std::string rewrite_exec(const std::string& raw, const LaunchTarget& t, const std::string& origin) {
    auto original = drop_obsolete_codes(split_exec(unescape_value(raw), origin));
    std::vector<ExecArg> args{literal_arg(t.program),    literal_arg("--store"),
                              literal_arg(t.store_root), literal_arg("exec"),
                              literal_arg(t.env_id),     literal_arg("--")};
    args.insert(args.end(), original.begin(), original.end());
    return escape_value(join_exec(args));
}

}  // namespace

bool plain_icon_name(std::string_view raw_value) {
    try {
        return valid_app_name(unescape_value(raw_value));
    } catch (const Error&) {
        return false;
    }
}

const std::vector<std::string>& application_dirs() {
    static const std::vector<std::string> dirs{"usr/local/share/applications",
                                               "usr/share/applications"};
    return dirs;
}

AppEntry find_app(const MergedTree& tree, std::string_view app, const std::string& env_label) {
    validate_app_name(app);
    std::string want(app);
    if (want.ends_with(".desktop")) want.resize(want.size() - 8);

    std::vector<Candidate> all;
    for (const auto& dir : application_dirs())
        collect(tree, dir, "", all, 0);

    // Tiers, best first: exact id; id ignoring case; last part of a reverse-DNS id; executable.
    auto pick = [&](auto matches) -> std::vector<AppEntry> {
        std::vector<AppEntry> hits;
        for (const auto& c : all)
            if (matches(c))
                if (auto a = load(tree, c)) hits.push_back(std::move(*a));
        return hits;
    };
    auto lw = ascii_lower(want);
    std::vector<std::vector<AppEntry>> tiers;
    tiers.push_back(pick([&](const Candidate& c) { return c.id == want; }));
    tiers.push_back(pick([&](const Candidate& c) { return ascii_lower(c.id) == lw; }));
    tiers.push_back(pick([&](const Candidate& c) {
        auto dot = c.id.rfind('.');
        return dot != std::string::npos && ascii_lower(c.id.substr(dot + 1)) == lw;
    }));
    for (auto& tier : tiers) {
        if (tier.size() == 1) return std::move(tier.front());
        if (tier.size() > 1) {
            std::string ids;
            for (const auto& a : tier)
                ids += (ids.empty() ? "" : ", ") + a.id;
            throw Error(Errc::conflict,
                        "'" + want + "' matches several applications in environment " + env_label +
                            ": " + ids,
                        "name the one you mean by its desktop-file id");
        }
    }
    std::vector<AppEntry> by_exec;
    for (const auto& c : all)
        if (auto a = load(tree, c); a && exec_program(*a) == want) by_exec.push_back(std::move(*a));
    if (by_exec.size() == 1) return std::move(by_exec.front());
    if (by_exec.size() > 1) {
        std::string ids;
        for (const auto& a : by_exec)
            ids += (ids.empty() ? "" : ", ") + a.id;
        throw Error(
            Errc::conflict,
            "several applications of environment " + env_label + " run '" + want + "': " + ids,
            "name the one you mean by its desktop-file id");
    }
    throw Error(Errc::not_found,
                "environment " + env_label + " has no application '" + want +
                    "' (looked for a desktop entry in /usr/share/applications and "
                    "/usr/local/share/applications)",
                "install the package that provides it ([system] packages, then karapace "
                "rebuild), or list what is there: karapace exec " +
                    env_label + " -- ls /usr/share/applications");
}

DesktopEntry make_launcher(const AppEntry& app, const LaunchTarget& target,
                           const std::string& icon) {
    auto out = app.entry;
    auto exec = out.get(main_group, "Exec");
    if (!exec)
        throw Error(Errc::failed, app.source + " has no Exec line",
                    "an application started over D-Bus only cannot be exported; export its "
                    "command with --bin instead");

    // Only the groups a launcher reads survive: any other group could carry commands that a
    // desktop would run on the host.
    // Sets: an entry of the environment may list thousands of actions.
    auto listed = split_list(out.get(main_group, "Actions").value_or(""));
    const std::set<std::string> actions(listed.begin(), listed.end());
    std::erase_if(out.groups(), [&](const DesktopGroup& g) {
        if (g.name == main_group) return false;
        if (!g.name.starts_with(action_prefix)) return true;
        return !actions.contains(g.name.substr(action_prefix.size()));
    });
    std::vector<std::string> kept_actions;
    for (auto& g : out.groups()) {
        if (g.name == main_group) continue;
        bool has_exec = false;
        for (auto& l : g.lines)
            if (l.key == "Exec" && l.locale.empty()) {
                l.value = rewrite_exec(l.value, target, app.source + " [" + g.name + "]");
                has_exec = true;
            }
        if (has_exec) kept_actions.push_back(g.name.substr(action_prefix.size()));
    }
    const std::set<std::string> kept(kept_actions.begin(), kept_actions.end());
    std::erase_if(out.groups(), [&](const DesktopGroup& g) {
        return g.name != main_group && !kept.contains(g.name.substr(action_prefix.size()));
    });

    // Exec is not a localestring, but KConfig looks up a localised variant of any key: an
    // Exec[de] would run on the host for German users.
    std::erase_if(out.preamble(), carries_marker);
    for (auto& g : out.groups())
        std::erase_if(g.lines, [](const DesktopLine& l) {
            return (l.key == "Exec" && !l.locale.empty()) || carries_marker(l.key) ||
                   (l.key.empty() && carries_marker(l.text));
        });

    out.set(main_group, "Exec", rewrite_exec(*exec, target, app.source));
    for (auto& g : out.groups()) {
        if (g.name != main_group) continue;
        // An empty name would start with the space, which readers trim.
        for (auto& l : g.lines)
            if (l.key == "Name") l.value += (l.value.empty() ? "\\s(" : " (") + target.label + ")";
    }
    // TryExec names a program the host does not have; D-Bus activation and Path would start or
    // run things on the host instead of in the environment.
    for (auto key : {"TryExec", "DBusActivatable", "Path", "Hidden"})
        out.remove(main_group, key);
    if (kept_actions.empty()) {
        out.remove(main_group, "Actions");
    } else {
        std::string list;
        for (const auto& a : kept_actions)
            list += a + ";";
        out.set(main_group, "Actions", list);
    }
    // An Icon that is a path names a file on the host, where the desktop reads it: `/etc/shadow`,
    // or `../../x` relative to wherever it resolves. Only theme names stay.
    for (auto& g : out.groups())
        std::erase_if(g.lines, [](const DesktopLine& l) {
            return l.key == "Icon" && !plain_icon_name(l.value);
        });
    if (!icon.empty()) {
        // Localised icons would name files of the environment; the copy serves every locale.
        for (auto& g : out.groups())
            if (g.name == main_group)
                std::erase_if(g.lines, [](const DesktopLine& l) {
                    return l.key == "Icon" && !l.locale.empty();
                });
        out.set(main_group, "Icon", escape_value(icon));
    }
    // Window managers match windows to launchers by this class or app id; the launcher's file
    // name is prefixed, so name the application's own id.
    if (!out.get(main_group, "StartupWMClass")) out.set(main_group, "StartupWMClass", app.id);
    out.set(main_group, "X-Karapace-Env", target.env_id);
    out.set(main_group, "X-Karapace-Source", escape_value(app.source));
    return out;
}

std::string launcher_file_name(const AppEntry& app, const std::string& label) {
    return file_prefix(label) + app.id + ".desktop";
}

std::string exported_env_of(const std::string& file_text) {
    // At the start of a line, or of a comment line in a wrapper script: elsewhere the text is
    // part of a value (an argument of Exec, a Name).
    std::size_t at = 0;
    for (;; at += env_marker.size()) {
        at = file_text.find(env_marker, at);
        if (at == std::string::npos) return {};
        if (at == 0 || file_text[at - 1] == '\n' ||
            (at >= 3 && file_text.compare(at - 3, 3, "\n# ") == 0))
            break;
    }
    auto start = at + env_marker.size();
    auto end = file_text.find('\n', start);
    return file_text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace karapace::exports
