// The environment a sandboxed command starts with: an allowlist of the host's variables (locale,
// terminal, display, session bus, agents), the sandbox's own markers, a sane PATH, the manifest's
// [env] and the caller's --env additions. Everything else, secrets in particular, stays outside.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karapace::sandbox {

struct EnvContext {
    std::string name;                    // KARAPACE_ENV
    std::string home;                    // HOME inside
    std::string user;                    // USER and LOGNAME inside
    bool host_integration = true;        // pass display/bus/agent variables
    std::vector<std::string> additions;  // --env K=V, applied last
    // [env] NAME=value, applied before `additions`; `$NAME` references in a value read the
    // environment as it is before any of them is applied.
    std::vector<std::string> manifest;
    std::vector<std::string> extra;  // variables the sandbox itself sets (XDG_DATA_DIRS, ...)
    // The base image's config.Env, applied over the defaults and the host's variables, before
    // `extra`; names image_env_reserved() keeps (HOME, USER...) are left alone.
    std::vector<std::string> image;
};

// True for a name the allowlist lets through from the host.
bool env_allowed(std::string_view name, bool host_integration);

// True for names that look like credentials (AWS_*, *_TOKEN, *SECRET*, *PASSWORD*, ...).
bool env_secret(std::string_view name);

// The container environment ("K=V" entries, sorted, unique) from the host's `environ`.
std::vector<std::string> build_environment(const std::vector<std::string>& host,
                                           const EnvContext& ctx);

// The environment of the command a sandbox runs for `spec`: home and user inside are root's for
// container root, else the caller's (`home`, `user`); `mount_env` holds the plan's env_extra.
struct SandboxSpec;
std::vector<std::string> command_environment(const SandboxSpec& spec, const std::string& home,
                                             const std::string& user,
                                             const std::vector<std::string>& mount_env);

// Socket activation (spec.listen_fds > 0): the descriptors 3…3+listen_fds-1, each checked to be
// open, with LISTEN_FDS and LISTEN_FDNAMES (when given) set in `env` and any other LISTEN_*
// entry taken out; LISTEN_PID is the caller's to add, as only it knows the command's pid.
// Error(usage) naming a descriptor that is not open. Empty without socket activation.
std::vector<int> socket_activation(const SandboxSpec& spec, std::vector<std::string>& env);

inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

}  // namespace karapace::sandbox
