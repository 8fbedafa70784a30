// Step: a minimal /dev. A tmpfs with the harmless character devices bound from the host, a new
// devpts instance (the host's terminals stay invisible), /dev/shm, and hardware only on request.
#include <array>
#include <utility>

#include "karapace/sandbox/mounts.hpp"

namespace karapace::sandbox {

namespace {
using Kind = MountOp::Kind;

MountOp device(const std::string& path, const std::string& why, bool optional) {
    MountOp m;
    m.kind = Kind::bind;
    m.source = path;
    m.target = path;
    m.nodev = false;  // the point of the bind is to use the node
    m.optional = optional;
    m.why = why;
    return m;
}

MountOp link(const std::string& from, const std::string& to) {
    MountOp m;
    m.kind = Kind::symlink;
    m.source = to;
    m.target = from;
    m.why = from;
    return m;
}
}  // namespace

void plan_devices(const SandboxSpec& spec, const HostView& host, MountPlan& plan) {
    auto& ops = plan.ops;
    MountOp dev;
    dev.kind = Kind::tmpfs;
    dev.source = "tmpfs";
    dev.target = "/dev";
    dev.options = "mode=0755";
    dev.noexec = true;
    dev.why = "/dev";
    ops.push_back(std::move(dev));

    for (const char* name : {"null", "zero", "full", "random", "urandom"})
        ops.push_back(device(std::string("/dev/") + name, std::string("/dev/") + name, false));
    ops.push_back(device("/dev/tty", "/dev/tty", true));
    // The terminal the command inherits lives in the host's devpts, which the new instance below
    // does not show; bound at /dev/console, ttyname() finds it by its device number, so `tty`,
    // GPG_TTY=$(tty) and ssh's prompts work. Only our own terminal, only for enter/exec.
    if (spec.host_integration && spec.stdin_fd < 0 && !host.terminal.empty()) {
        auto console = device(host.terminal, "the terminal (/dev/console)", true);
        console.target = "/dev/console";
        ops.push_back(std::move(console));
    }

    MountOp pts;
    pts.kind = Kind::devpts;
    pts.source = "devpts";
    pts.target = "/dev/pts";
    pts.options = "newinstance,ptmxmode=0666,mode=0620";
    pts.noexec = true;
    pts.nodev = false;  // /dev/ptmx and the terminals are nodes on it (tmux, script, ssh need them)
    pts.why = "/dev/pts";
    ops.push_back(std::move(pts));
    ops.push_back(link("/dev/ptmx", "pts/ptmx"));

    MountOp shm;
    shm.kind = Kind::tmpfs;
    shm.source = "tmpfs";
    shm.target = "/dev/shm";
    shm.options = "mode=1777";
    shm.why = "/dev/shm";
    ops.push_back(std::move(shm));

    MountOp mq;
    mq.kind = Kind::mqueue;
    mq.source = "mqueue";
    mq.target = "/dev/mqueue";
    mq.noexec = true;
    mq.optional = true;
    mq.why = "/dev/mqueue";
    ops.push_back(std::move(mq));

    ops.push_back(link("/dev/fd", "/proc/self/fd"));
    ops.push_back(link("/dev/stdin", "/proc/self/fd/0"));
    ops.push_back(link("/dev/stdout", "/proc/self/fd/1"));
    ops.push_back(link("/dev/stderr", "/proc/self/fd/2"));

    // Every vendor's render and display nodes; NVIDIA's own nodes come with its driver's
    // userspace (gpu.cpp).
    if (spec.gpu && host.probe("/dev/dri"))
        ops.push_back(device("/dev/dri", "GPU (/dev/dri)", true));
    if (spec.audio && host.probe("/dev/snd"))
        ops.push_back(device("/dev/snd", "sound devices (/dev/snd)", true));
}

}  // namespace karapace::sandbox
