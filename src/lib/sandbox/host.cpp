// Step: host integration for enter/exec, in the manner of Toolbx and Distrobox. Every item is
// planned only when it exists on the host, and sockets are bound as files onto files: binding a
// socket onto a directory fails with ENOTDIR, which is how the earlier implementation lost them.
#include "karapace/sandbox/mounts.hpp"

namespace karapace::sandbox {

namespace {
using Kind = MountOp::Kind;

struct Planner {
    const HostView& host;
    MountPlan& plan;

    bool exists(const std::string& path) const { return host.probe(path).has_value(); }

    void bind(const std::string& path, const std::string& why, bool read_only = false) {
        bind_to(path, path, why, read_only);
    }
    void bind_to(const std::string& from, const std::string& to, const std::string& why,
                 bool read_only) {
        MountOp m;
        m.kind = Kind::bind;
        m.source = from;
        m.target = to;
        m.read_only = read_only;
        m.optional = true;  // it may vanish between the probe and the mount: not worth failing
        m.why = why;
        plan.ops.push_back(m);
    }
    // A socket named by a variable: bound only when it is a socket on the host.
    void socket(const std::string& path, const std::string& why) {
        if (!path.empty() && path.front() == '/' && host.probe(path) == FileKind::socket)
            bind(path, why);
    }
    std::string env(const char* name) const { return host.getenv(name).value_or(""); }
};

// "unix:path=/run/user/1000/bus,guid=..." -> "/run/user/1000/bus"
std::string unix_path_of(const std::string& address, const std::string& prefix) {
    auto pos = address.find(prefix);
    if (pos == std::string::npos) return {};
    auto start = pos + prefix.size();
    return address.substr(start, address.find_first_of(",;", start) - start);
}
}  // namespace

void plan_host_integration(const SandboxSpec& spec, const HostView& host, MountPlan& plan) {
    Planner p{host, plan};

    // systemd's notification socket, through the relay that sends on as the main process.
    if (!spec.notify_socket.empty() && host.probe(spec.notify_socket) == FileKind::socket) {
        p.bind_to(spec.notify_socket, std::string(kNotifySocketInside),
                  "systemd notification socket", false);
        plan.env_extra.push_back("NOTIFY_SOCKET=" + std::string(kNotifySocketInside));
    }

    if (!host.home.empty() && host.home != "/" && host.probe(host.home) == FileKind::directory)
        p.bind(host.home, "home directory " + host.home);

    std::string runtime = p.env("XDG_RUNTIME_DIR");
    if (!runtime.empty() && runtime.front() == '/' && host.probe(runtime) == FileKind::directory) {
        // A private, empty runtime dir: only the sockets below are shared, not keyrings or
        // portals the user did not ask for.
        MountOp dir;
        dir.kind = Kind::tmpfs;
        dir.source = "tmpfs";
        dir.target = runtime;
        dir.options = "mode=0700";
        dir.why = "runtime directory " + runtime;
        plan.ops.push_back(dir);

        std::string wayland = p.env("WAYLAND_DISPLAY");
        if (wayland.empty()) wayland = "wayland-0";
        p.socket(wayland.front() == '/' ? wayland : runtime + "/" + wayland, "Wayland socket");
        p.socket(runtime + "/pipewire-0", "PipeWire socket");
        p.socket(runtime + "/pulse/native", "PulseAudio socket");
        p.socket(runtime + "/bus", "session bus socket");
        if (p.env("DBUS_SESSION_BUS_ADDRESS").empty() &&
            host.probe(runtime + "/bus") == FileKind::socket)
            plan.env_extra.push_back("DBUS_SESSION_BUS_ADDRESS=unix:path=" + runtime + "/bus");
    }
    std::string bus = unix_path_of(p.env("DBUS_SESSION_BUS_ADDRESS"), "unix:path=");
    if (!bus.empty() && (runtime.empty() || bus != runtime + "/bus"))
        p.socket(bus, "session bus socket");
    std::string pulse = unix_path_of(p.env("PULSE_SERVER"), "unix:");
    if (!pulse.empty() && (runtime.empty() || pulse != runtime + "/pulse/native"))
        p.socket(pulse, "PulseAudio socket");

    if (!p.env("DISPLAY").empty()) {
        if (host.probe("/tmp/.X11-unix") == FileKind::directory)
            p.bind("/tmp/.X11-unix", "X11 sockets", true);
        std::string xauth = p.env("XAUTHORITY");
        if (!xauth.empty() && xauth.front() == '/' && host.probe(xauth) == FileKind::regular)
            p.bind(xauth, "Xauthority", true);
    }
    p.socket(p.env("SSH_AUTH_SOCK"), "SSH agent socket");

    // Host fonts and themes beside the image's own (mounting over /usr/share/fonts would hide
    // fonts installed in the environment): found through XDG_DATA_DIRS and a fontconfig include.
    bool any_share = false;
    for (const char* what : {"fonts", "icons", "themes"}) {
        std::string from = std::string("/usr/share/") + what;
        if (host.probe(from) == FileKind::directory) {
            p.bind_to(from, std::string("/run/host/share/") + what, std::string("host ") + what,
                      true);
            any_share = true;
        }
    }
    if (any_share)
        append_search_dir(plan.env_extra, "XDG_DATA_DIRS", "/usr/local/share:/usr/share",
                          "/run/host/share");
    if (host.probe("/usr/share/fonts") == FileKind::directory) {
        MountOp conf;
        conf.kind = Kind::file;
        conf.source =
            "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n"
            "<fontconfig>\n  <dir>/run/host/share/fonts</dir>\n</fontconfig>\n";
        conf.target = "/etc/fonts/conf.d/99-karapace-host-fonts.conf";
        conf.needs_parent = true;
        conf.why = "fontconfig include for host fonts";
        plan.ops.push_back(conf);
    }
}

}  // namespace karapace::sandbox
