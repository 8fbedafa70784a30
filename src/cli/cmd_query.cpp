// `karapace list` and `karapace inspect`.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/progress.hpp"
#include "karapace/core/report_json.hpp"

namespace karapace::cli {

namespace {
std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}
}  // namespace

int run_list(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto envs = engine.list();
    out.json_result(core::to_json(envs));
    if (envs.empty()) {
        out.line("no environments in " + engine.store_root());
        return 0;
    }
    out.line(pad("SHORT_ID", 14) + pad("NAME", 18) + pad("STATE", 10) + "BASE IMAGE");
    for (const auto& e : envs)
        out.line(pad(e.short_id, 14) + pad(e.name.empty() ? "-" : e.name, 18) + pad(e.state, 10) +
                 e.base_image);
    return 0;
}

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items)
        out += (out.empty() ? "" : " ") + s.substr(s.rfind('/') + 1);
    return out;
}

void print_gpu(const core::GpuDetails& g, Output& out) {
    if (!g.requested) {
        out.line("gpu:          no");
        return;
    }
    std::string dri = g.dri ? "/dev/dri" : "no /dev/dri";
    if (g.nvidia == "none") {
        out.line("gpu:          " + dri + "; no NVIDIA driver on this host");
    } else {
        out.line("gpu:          " + dri + "; NVIDIA driver " +
                 (g.driver_version.empty() ? "(version unknown)" : g.driver_version) + ", " +
                 (g.nvidia == "cdi" ? "from the CDI spec " + g.cdi_spec
                                    : "found through the host's ld.so.cache"));
        out.line("  devices:    " + joined(g.devices));
        out.line("  libraries:  " + std::to_string(g.libraries.size()) +
                 " below /run/host/nvidia, found through " + g.linker);
        // All of them, wrapped like the rest of the output.
        std::string line = "   ";
        for (const auto& l : g.libraries) {
            auto name = l.substr(l.rfind('/') + 1);
            if (line.size() + name.size() + 1 > 100) {
                out.line(line);
                line = "   ";
            }
            line += " " + name;
        }
        if (line.size() > 3) out.line(line);
        if (!g.programs.empty()) out.line("  programs:   " + joined(g.programs));
        if (!g.files.empty()) out.line("  files:      " + joined(g.files));
    }
    for (const auto& m : g.missing)
        out.line("  missing:    " + m);
    for (const auto& w : g.warnings)
        out.line("  warning:    " + w);
}

}  // namespace

int run_inspect(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto d = engine.inspect(inv.positional("env"));
    out.json_result(core::to_json(d));
    const auto& s = d.summary;
    out.line("env_id:       " + s.env_id);
    out.line("name:         " + (s.name.empty() ? std::string("(none)") : s.name));
    out.line("state:        " + s.state);
    out.line("manifest:     " + d.manifest_path);
    if (!d.instance_of.empty())
        out.line("instance of:  " + d.instance_of.substr(0, 12) +
                 " (built from the same lock; its own writable layer)");
    out.line("image:        " + d.pinned_image);
    out.line("image digest: " + d.image_digest);
    out.line("created:      " + s.created);
    out.line("updated:      " + s.updated);
    out.line("packages:     " + std::to_string(d.packages.size()) + " locked");
    for (const auto& p : d.packages)
        out.line("  " + p.name + " " + p.version + " " + p.arch);
    out.line("layers:");
    for (const auto& l : d.layers)
        out.line("  " + l.kind + " " + l.digest.substr(0, 19) + " " + format_bytes(l.size) +
                 (l.stored == "unpacked" ? ", stored once (unpacked)"
                  : l.tar_kept.empty()   ? ""
                                         : ", kept as a tar object too: " + l.tar_kept));
    out.line("writable:     " + format_bytes(d.upper_size));
    out.line("sessions:     " + std::to_string(d.sessions.size()));
    for (const auto& ses : d.sessions)
        out.line("  pid " + std::to_string(ses.pid));
    if (d.lingering.empty()) out.line("lingering:    none");
    for (const auto& ses : d.lingering)
        out.line("lingering:    pid " + std::to_string(ses.pid) +
                 ", ready for the next run (`karapace stop` ends it)");
    out.line("limits:       " + d.limit_mechanism);
    out.line("ns keeper:    " + d.namespace_keeper);
    out.line("env:          " + std::to_string(d.env.size()) + " from [env]");
    for (const auto& [name, value] : d.env)
        out.line("  " + name + "=" + printable(value));
    out.line("hooks:        " + std::to_string(d.post_build.size()) + " post_build, " +
             std::to_string(d.on_enter.size()) + " on_enter");
    for (const auto& h : d.post_build)
        out.line("  post_build: " + printable(h));
    for (const auto& h : d.on_enter)
        out.line("  on_enter:   " + printable(h));
    print_gpu(d.gpu, out);
    return 0;
}

}  // namespace karapace::cli
