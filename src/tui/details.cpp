#include "tui/details.hpp"

#include <cstdlib>

#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/results.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::tui {

namespace {

// At most this many paths of each kind of change; the count says how many there are.
constexpr std::size_t max_drift_paths = 200;

std::string cmdline_of(int pid) {
    std::string raw;
    try {
        raw = read_file_limited("/proc/" + std::to_string(pid) + "/cmdline", 4096);
    } catch (const Error&) {
        return {};
    }
    while (!raw.empty() && raw.back() == '\0')
        raw.pop_back();
    for (auto& c : raw)
        if (c == '\0') c = ' ';
    return cli::printable(raw);
}

void heading(Details& d, std::string text) {
    d.lines.push_back({});
    d.lines.push_back({DetailLine::Kind::heading, "", std::move(text)});
}

void field(Details& d, std::string label, std::string text) {
    d.lines.push_back({DetailLine::Kind::field, std::move(label), std::move(text)});
}

void line(Details& d, std::string text) {
    d.lines.push_back({DetailLine::Kind::text, "", std::move(text)});
}

void add_drift(Details& d, const core::DiffReport& r) {
    heading(d, "Drift (karapace diff): " + std::to_string(r.added.size()) + " added, " +
                   std::to_string(r.modified.size()) + " modified, " +
                   std::to_string(r.removed.size()) + " removed");
    if (!r.has_drift()) line(d, "  no changes");
    for (auto [mark, paths] :
         {std::pair{"+ ", &r.added}, {"~ ", &r.modified}, {"- ", &r.removed}}) {
        for (std::size_t i = 0; i < paths->size() && i < max_drift_paths; ++i)
            line(d, std::string("  ") + mark + cli::printable((*paths)[i]));
        if (paths->size() > max_drift_paths)
            line(d, "  " + std::string(mark) + "... and " +
                        std::to_string(paths->size() - max_drift_paths) + " more");
    }
}

}  // namespace

std::string session_command(int pid) {
    std::string children;
    try {
        auto tid = std::to_string(pid);
        children = read_file_limited("/proc/" + tid + "/task/" + tid + "/children", 4096);
    } catch (const Error&) {}
    if (int child = std::atoi(children.c_str()); child > 0) {
        auto cmd = cmdline_of(child);
        if (!cmd.empty()) return cmd;
    }
    return cmdline_of(pid);
}

Details load_details(core::Engine& engine, const std::string& env_id) {
    Details d;
    auto info = engine.inspect(env_id);
    const auto& s = info.summary;
    d.env_id = s.env_id;
    d.label = s.name.empty() ? s.short_id : s.name;
    d.state = s.state;
    field(d, "state", s.state);
    field(d, "name", s.name.empty() ? "(none)" : s.name);
    field(d, "env_id", s.env_id);
    field(d, "base image", cli::printable(s.base_image));
    field(d, "pinned", cli::printable(info.pinned_image));
    field(d, "image digest", info.image_digest);
    field(d, "manifest", cli::printable(info.manifest_path));
    if (!info.instance_of.empty())
        field(d, "instance of", info.instance_of.substr(0, 12) + " (built from the same lock)");
    field(d, "created", s.created);
    field(d, "updated", s.updated);

    heading(d, "Packages (" + std::to_string(info.packages.size()) + " locked)");
    if (info.packages.empty()) line(d, "  none");
    for (const auto& p : info.packages)
        line(d, "  " + cli::printable(p.name) + " " + cli::printable(p.version) + " " + p.arch);

    heading(d, "Layers (bottom first)");
    if (info.layers.empty()) line(d, "  none: the base image alone");
    for (const auto& l : info.layers)
        line(d, "  " + l.kind + " " + l.digest.substr(0, 19) + "  " + cli::format_bytes(l.size));
    line(d, "  writable  " + cli::format_bytes(info.upper_size));

    heading(d, "Sessions (" + std::to_string(info.sessions.size()) + " running)");
    if (info.sessions.empty()) line(d, "  none");
    for (const auto& ses : info.sessions) {
        auto cmd = session_command(ses.pid);
        line(d, "  pid " + std::to_string(ses.pid) + "  since " + ses.started + "  " +
                    (cmd.empty() ? "(ended)" : cmd));
    }

    heading(d, "Snapshots");
    try {
        d.snapshots = engine.snapshots(env_id);
        if (d.snapshots.empty()) line(d, "  none (c commits one; o restores one)");
        for (const auto& snap : d.snapshots)
            line(d, "  " + snap.id.substr(0, 12) + "  " + snap.created + "  " +
                        cli::format_bytes(snap.size) + "  " + std::to_string(snap.files) +
                        " entries");
    } catch (const Error& e) {
        line(d, std::string("  error: ") + e.what());
    }

    try {
        add_drift(d, engine.diff(env_id));
    } catch (const Error& e) {
        heading(d, "Drift (karapace diff)");
        line(d, std::string("  error: ") + e.what());
    }

    heading(d, "Exported to the host");
    try {
        auto items = engine.exports(env_id);
        if (items.empty()) line(d, "  nothing (E exports applications)");
        for (const auto& i : items)
            line(d, "  " + cli::printable(cli::exported_item_text(i)));
    } catch (const Error& e) {
        line(d, std::string("  error: ") + e.what());
    }
    return d;
}

}  // namespace karapace::tui
