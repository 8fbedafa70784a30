#include "karapace/sandbox/env.hpp"

#include <fcntl.h>

#include "karapace/sandbox/spec.hpp"
#include "karapace/schema/env_vars.hpp"
#include "karapace/schema/image_config.hpp"

#include <algorithm>
#include <array>
#include <map>

extern char** environ;

namespace karapace::sandbox {

namespace {

// Locale and terminal: harmless and needed for a usable shell.
constexpr std::array kBasic{"TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ", "NO_COLOR"};

// The desktop session: only with host integration, which also binds the sockets they name.
constexpr std::array kSession{"DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "XDG_SESSION_TYPE",
                              "XDG_CURRENT_DESKTOP", "DBUS_SESSION_BUS_ADDRESS", "PULSE_SERVER",
                              "SSH_AUTH_SOCK", "XAUTHORITY", "SHELL",
                              // A systemd service's: the journal stream stderr is (programs log
                              // to it directly when it matches) and the unit's invocation.
                              "JOURNAL_STREAM", "INVOCATION_ID"};

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

std::string_view key_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

bool env_secret(std::string_view n) {
    static constexpr std::array prefixes{
        "AWS_",   "AZURE_",    "GOOGLE_APPLICATION", "GCP_",     "DOCKER_",     "GPG_AGENT",
        "VAULT_", "NPM_TOKEN", "GITHUB_TOKEN",       "GH_TOKEN", "CI_JOB_TOKEN"};
    for (std::string_view p : prefixes)
        if (n.substr(0, p.size()) == p) return true;
    static constexpr std::array parts{"TOKEN",   "SECRET", "PASSWORD",    "PASSWD",    "CREDENTIAL",
                                      "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY"};
    for (std::string_view p : parts)
        if (contains(n, p)) return true;
    return false;
}

bool env_allowed(std::string_view name, bool host_integration) {
    // The short allowlist first: most of a host's variables are on neither list, and the secret
    // check's substring searches are then not needed.
    bool listed = name.substr(0, 3) == "LC_";
    for (std::string_view k : kBasic)
        listed = listed || name == k;
    if (host_integration)
        for (std::string_view k : kSession)
            listed = listed || name == k;
    return listed && !env_secret(name);
}

namespace {

// build_environment for any range of host entries that convert to string_view: a vector of them,
// or `environ` read in place.
template <class Host>
std::vector<std::string> environment_from(const Host& host, const EnvContext& ctx) {
    std::map<std::string, std::string, std::less<>> env;
    auto set = [&](std::string_view entry) {
        auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) return;
        env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
    };
    for (std::string_view entry : host)
        if (env_allowed(key_of(entry), ctx.host_integration)) set(entry);
    env["PATH"] = kDefaultPath;
    env["container"] = "karapace";
    if (!ctx.name.empty()) env["KARAPACE_ENV"] = ctx.name;
    if (!ctx.home.empty()) env["HOME"] = ctx.home;
    if (!ctx.user.empty()) {
        env["USER"] = ctx.user;
        env["LOGNAME"] = ctx.user;
    }
    if (!env.count("TERM")) env["TERM"] = "xterm-256color";
    for (const auto& entry : ctx.image)
        if (!schema::image_env_reserved(key_of(entry))) set(entry);
    for (const auto& entry : ctx.extra)
        set(entry);
    if (!ctx.manifest.empty()) {
        const auto before = env;
        auto lookup = [&](std::string_view name) -> const std::string* {
            auto it = before.find(name);
            return it == before.end() ? nullptr : &it->second;
        };
        for (const auto& entry : ctx.manifest) {
            auto eq = entry.find('=');
            if (eq == std::string::npos || eq == 0) continue;
            env[entry.substr(0, eq)] =
                schema::expand_env_value(std::string_view(entry).substr(eq + 1), lookup);
        }
    }
    // Explicit --env wins: the caller chose to pass it, secret-looking or not.
    for (const auto& entry : ctx.additions)
        set(entry);
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [k, v] : env)
        out.push_back(k + "=" + v);
    return out;
}

// The process's own environment, without copying it.
struct Environ {
    struct Iter {
        char** p;
        std::string_view operator*() const { return *p; }
        Iter& operator++() {
            ++p;
            return *this;
        }
        bool operator!=(const Iter& o) const { return p != o.p; }
    };
    Iter begin() const { return {environ}; }
    Iter end() const {
        char** e = environ;
        while (e != nullptr && *e != nullptr)
            ++e;
        return {e};
    }
};

}  // namespace

std::vector<std::string> build_environment(const std::vector<std::string>& host,
                                           const EnvContext& ctx) {
    return environment_from(host, ctx);
}

std::vector<int> socket_activation(const SandboxSpec& spec, std::vector<std::string>& env) {
    std::vector<int> fds;
    if (spec.listen_fds <= 0) return fds;
    for (int i = 0; i < spec.listen_fds; ++i) {
        if (::fcntl(3 + i, F_GETFD) < 0)
            throw Error(Errc::usage,
                        "LISTEN_FDS=" + std::to_string(spec.listen_fds) + " but descriptor " +
                            std::to_string(3 + i) + " is not open",
                        "start karapace from the socket unit, or unset LISTEN_FDS");
        fds.push_back(3 + i);
    }
    std::erase_if(env, [](const std::string& e) {
        return e.starts_with("LISTEN_FDS=") || e.starts_with("LISTEN_PID=") ||
               e.starts_with("LISTEN_FDNAMES=");
    });
    env.push_back("LISTEN_FDS=" + std::to_string(spec.listen_fds));
    if (!spec.listen_fdnames.empty()) env.push_back("LISTEN_FDNAMES=" + spec.listen_fdnames);
    return fds;
}

std::vector<std::string> command_environment(const SandboxSpec& spec, const std::string& home,
                                             const std::string& user,
                                             const std::vector<std::string>& mount_env) {
    EnvContext ctx;
    ctx.name = spec.hostname;
    ctx.host_integration = spec.host_integration;
    bool root = spec.mapping == IdMapping::container_root;
    ctx.home = root ? "/root" : home;
    ctx.user = root ? "root" : user;
    ctx.additions = spec.env;
    ctx.manifest = spec.manifest_env;
    ctx.image = spec.image_env;
    ctx.extra = mount_env;
    return environment_from(Environ{}, ctx);
}

}  // namespace karapace::sandbox
