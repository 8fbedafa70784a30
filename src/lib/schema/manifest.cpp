#include "karapace/schema/manifest.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/text.hpp"
#include "schema/text.hpp"
#include "schema/toml_reader.hpp"

namespace karapace::schema {

using detail::fail_at;
using detail::Position;
using detail::TableReader;
using detail::TomlSource;

namespace {

// A package or app name goes to a package manager's argv: no blanks (two names in one string), no
// control characters, and no leading '-' (it would be read as an option).
std::string name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (detail::has_control_char(name)) return "contains a control character";
    if (name.find(' ') != std::string_view::npos) return "contains a space (one name per string)";
    if (name.front() == '-') return "starts with '-'";
    return {};
}

std::vector<std::string> read_names(const TableReader& t, std::string_view key) {
    auto raw = t.string_array(key);
    if (!raw) return {};
    const auto& elems = t.find(key)->as_array();
    std::vector<std::string> out;
    for (std::size_t i = 0; i < raw->size(); ++i) {
        std::string name = detail::trim((*raw)[i]);
        std::string problem = name_problem(name);
        if (!problem.empty())
            fail_at(t.source(), detail::value_position(elems[i]),
                    log::cat("element ", i, " of '", t.path_of(key), "' ", problem, ": ",
                             detail::toml_basic_string((*raw)[i])),
                    "write one package name per string, e.g. [\"git\", \"curl\"]");
        out.push_back(std::move(name));
    }
    return out;
}

void read_version(const TomlSource& src, const toml::value& root, Manifest& m) {
    TableReader any(src, root, "", {}, true);
    const toml::value* v = any.find("manifest_version");
    if (v == nullptr)
        any.fail_missing("manifest_version", "add `manifest_version = 1` at the top of the file");
    auto version = any.integer("manifest_version");
    if (*version != manifest_version_current)
        fail_at(src, detail::value_position(*v),
                log::cat("unsupported manifest_version ", *version, " (this karapace reads ",
                         manifest_version_current, ")"),
                *version > 1 ? "this manifest was written for a newer karapace; upgrade karapace"
                             : "set manifest_version = 1");
    m.manifest_version = manifest_version_current;
}

void read_base(const TableReader& top, Manifest& m) {
    auto base = top.table("base", {"image"});
    const std::string example = "add:\n  [base]\n  image = \"debian/bookworm\"";
    if (!base) fail_at(top.source(), top.position(), "missing required table [base]", example);
    if (base->find("image") == nullptr) base->fail_missing("image", example);
    std::string raw = base->required_string("image");
    m.base_image = detail::trim(raw);
    const toml::value& v = *base->find("image");
    if (m.base_image.empty())
        fail_at(top.source(), detail::value_position(v), "key 'base.image' must not be empty",
                "name an image, e.g. \"debian/bookworm\" or \"ubuntu/24.04\"");
    if (detail::has_control_char(m.base_image) || m.base_image.find(' ') != std::string::npos)
        fail_at(top.source(), detail::value_position(v),
                "key 'base.image' must not contain spaces or control characters: " +
                    detail::toml_basic_string(raw),
                "name one image, e.g. \"debian/bookworm\"");
}

std::string container_key(const std::string& container) {
    std::string c = lexically_absolute(container, "/");
    while (c.size() > 1 && c.back() == '/')
        c.pop_back();
    return c;
}

void read_mounts(const TableReader& top, Manifest& m) {
    auto mounts = top.table("mounts", {}, true);
    if (!mounts) return;
    std::map<std::string, std::string> label_of_target;
    std::map<std::string, std::string> seen_labels;
    for (const auto& key : mounts->keys_in_order()) {
        const toml::value& v = *mounts->find(key);
        if (!v.is_string())
            mounts->fail_type(key, v,
                              "a string of the form \"host:container\" or "
                              "\"host:container:ro\"");
        MountSpec spec;
        std::string problem = check_mount_spec(key, v.as_string().str, spec);
        if (!problem.empty())
            mounts->fail_key(key,
                             problem.rfind("mount label", 0) == 0
                                 ? problem + " (key '" + mounts->path_of(key) + "')"
                                 : "mount '" + mounts->path_of(key) + "': " + problem,
                             "write mounts as label = \"host:container\" or "
                             "\"host:container:ro\"; the container path is absolute");
        if (auto it = seen_labels.find(spec.label); it != seen_labels.end())
            mounts->fail_key(key,
                             "mount label '" + spec.label + "' is used twice (also by '" +
                                 mounts->path_of(it->second) + "')",
                             "give each mount its own label");
        seen_labels[spec.label] = key;
        std::string target = container_key(spec.container);
        if (auto it = label_of_target.find(target); it != label_of_target.end())
            mounts->fail_key(
                key,
                "mounts '" + it->second + "' and '" + spec.label + "' both mount onto " + target,
                "give each mount its own container path");
        label_of_target[target] = spec.label;
        m.mounts.push_back(std::move(spec));
    }
}

void read_runtime(const TableReader& top, Manifest& m) {
    auto rt = top.table("runtime",
                        {"backend", "network_isolation", "no_new_privileges", "resource_limits"});
    if (!rt) return;
    if (auto backend = rt->string("backend")) {
        std::string b = ascii_lower(detail::trim(*backend));
        const auto& known = known_backends();
        if (std::find(known.begin(), known.end(), b) == known.end()) {
            std::string list;
            for (const auto& k : known)
                list += (list.empty() ? "" : ", ") + k;
            fail_at(top.source(), detail::value_position(*rt->find("backend")),
                    "unknown backend " + detail::toml_basic_string(*backend) +
                        " for 'runtime.backend' (known: " + list + ")",
                    "use backend = \"namespace\" (the default)");
        }
        m.backend = detail::trim(*backend);
    }
    m.network_isolation = rt->boolean("network_isolation").value_or(false);
    m.no_new_privileges = rt->boolean("no_new_privileges").value_or(false);
    if (auto limits = rt->table("resource_limits", {"cpu_shares", "memory_limit_mb"})) {
        m.cpu_shares = limits->unsigned_integer("cpu_shares", 1, cpu_shares_max);
        m.memory_limit_mb = limits->unsigned_integer("memory_limit_mb", 1, memory_limit_mb_max);
    }
}

// [env]: NAME = "value", where a value may refer to the session's variables.
void read_env(const TableReader& top, Manifest& m) {
    auto env = top.table("env", {}, true);
    if (!env) return;
    const auto keys = env->keys_in_order();
    const std::set<std::string> names(keys.begin(), keys.end());
    for (const auto& key : keys) {
        const toml::value& v = *env->find(key);
        std::string problem = env_name_problem(key);
        if (!problem.empty())
            env->fail_key(key, "key '" + env->path_of(key) + "' cannot be set: " + problem,
                          valid_variable_name(key)
                              ? "remove it from [env] (docs/manifest.md lists the variables the "
                                "sandbox keeps)"
                              : "name variables with letters, digits and '_', e.g. MY_TOOL_HOME");
        if (!v.is_string())
            fail_at(
                top.source(), detail::value_position(v),
                "key '" + env->path_of(key) + "' must be a string, not " + detail::type_phrase(v),
                "quote the value, e.g. " + detail::key_text(key) + " = \"1\"");
        const std::string& value = v.as_string().str;
        std::vector<std::string> refs;
        problem = env_value_problem(value, &refs);
        if (!problem.empty())
            fail_at(top.source(), detail::value_position(v),
                    "value of '" + env->path_of(key) + "' " + problem,
                    value.find('$') != std::string::npos && problem.find('$') != std::string::npos
                        ? "write $NAME or ${NAME} for a variable of the session and $$ for a "
                          "literal $"
                        : "write the value on one line, without control characters");
        for (const auto& ref : refs)
            if (ref != key && names.count(ref) != 0)
                fail_at(top.source(), detail::value_position(v),
                        "value of '" + env->path_of(key) + "' refers to $" + ref +
                            ", which [env] sets too: references read the session's variables "
                            "as the sandbox sets them, never other [env] entries",
                        log::cat("write the value of ", ref, " out here instead of $", ref));
        m.env.push_back({key, value});
    }
}

// A hook list: commands for /bin/sh -c, run in order.
std::vector<std::string> read_hook_list(const TableReader& hooks, std::string_view key) {
    const toml::value* v = hooks.find(key);
    if (v == nullptr) return {};
    if (!v->is_array())
        fail_at(hooks.source(), detail::value_position(*v),
                "key '" + hooks.path_of(key) + "' must be an array of strings, not " +
                    detail::type_phrase(*v),
                "write a list of commands, e.g. " + std::string(key) + " = [\"make install\"]");
    auto raw = hooks.string_array(key);
    const auto& elems = v->as_array();
    std::vector<std::string> out;
    for (std::size_t i = 0; i < raw->size(); ++i) {
        // A CRLF file gives multi-line strings CRLF line ends, which sh would read as part of
        // the commands.
        std::string command;
        for (std::size_t j = 0; j < (*raw)[i].size(); ++j)
            if (!((*raw)[i][j] == '\r' && j + 1 < (*raw)[i].size() && (*raw)[i][j + 1] == '\n'))
                command += (*raw)[i][j];
        std::string problem = hook_command_problem(command);
        if (!problem.empty())
            fail_at(hooks.source(), detail::value_position(elems[i]),
                    log::cat("element ", i, " of '", hooks.path_of(key), "' ", problem),
                    "give each hook one command for /bin/sh -c, e.g. \"make install\"");
        out.push_back(detail::trim(command));
    }
    return out;
}

// A service's command: an array of arguments, or a string split at whitespace (no quoting: the
// array form carries arguments with spaces).
std::vector<std::string> read_service_command(const TableReader& t, std::string_view key) {
    const toml::value* v = t.find(key);
    const std::string hint = "write the command as a list of arguments, e.g. " +
                             detail::key_text(key) + " = [\"python3\", \"-m\", \"http.server\"]";
    if (v->is_string()) {
        const std::string& text = v->as_string().str;
        if (text.find_first_of("\"'\\") != std::string::npos)
            t.fail_key(key, "the command of '" + t.path_of(key) + "' has quotes or backslashes",
                       hint);
        std::vector<std::string> out;
        std::size_t at = 0;
        while (at < text.size()) {
            auto start = text.find_first_not_of(" \t", at);
            if (start == std::string::npos) break;
            auto end = text.find_first_of(" \t", start);
            out.push_back(text.substr(start, end == std::string::npos ? end : end - start));
            at = end == std::string::npos ? text.size() : end;
        }
        return out;
    }
    if (!v->is_array()) t.fail_type(key, *v, "a string or an array of strings");
    auto args = t.string_array(key);
    return args ? *args : std::vector<std::string>{};
}

// [services] NAME = "CMD ARG..." | ["CMD", "ARG", ...] |
//            { command = ..., notify = BOOL, restart = POLICY, sockets = ["ADDRESS", ...] }
void read_services(const TableReader& top, Manifest& m) {
    auto services = top.table("services", {}, true);
    if (!services) return;
    for (const auto& name : services->keys_in_order()) {
        const toml::value& v = *services->find(name);
        ServiceDecl d;
        d.name = name;
        if (v.is_table()) {
            TableReader t(services->source(), v, services->path_of(name),
                          {"command", "notify", "restart", "sockets"});
            if (t.find("command") == nullptr) t.fail_missing("command");
            d.spec.command = read_service_command(t, "command");
            d.spec.notify = t.boolean("notify").value_or(false);
            d.spec.restart = t.string("restart").value_or(d.spec.restart);
            if (auto sockets = t.string_array("sockets")) d.spec.sockets = *sockets;
        } else {
            d.spec.command = read_service_command(*services, name);
        }
        if (auto problem = service_problem(d.name, d.spec))
            services->fail_key(name, problem->message, problem->hint);
        m.services.push_back(std::move(d));
    }
}

void read_hooks(const TableReader& top, Manifest& m) {
    auto hooks = top.table("hooks", {"post_build", "on_enter"});
    if (!hooks) return;
    m.post_build = read_hook_list(*hooks, "post_build");
    m.on_enter = read_hook_list(*hooks, "on_enter");
}

}  // namespace

const std::vector<std::string>& known_backends() {
    static const std::vector<std::string> backends{"namespace", "oci", "mock"};
    return backends;
}

Manifest parse_manifest(std::string_view text, const std::string& source_name) {
    TomlSource src{source_name, Errc::manifest};
    if (text.find('\0') != std::string_view::npos)
        throw Error(Errc::manifest, source_name + ": not a text file (it contains a NUL byte)",
                    "point karapace at a karapace.toml manifest");
    toml::value root = detail::parse_toml(text, src);
    Manifest m;
    read_version(src, root, m);
    TableReader top(src, root, "",
                    {"manifest_version", "base", "system", "gui", "hardware", "mounts", "runtime",
                     "env", "hooks", "services"});
    read_base(top, m);
    if (auto sys = top.table("system", {"packages"})) m.packages = read_names(*sys, "packages");
    if (auto gui = top.table("gui", {"apps"})) m.apps = read_names(*gui, "apps");
    if (auto hw = top.table("hardware", {"gpu", "audio"})) {
        m.gpu = hw->boolean("gpu").value_or(false);
        m.audio = hw->boolean("audio").value_or(false);
    }
    read_mounts(top, m);
    read_runtime(top, m);
    read_env(top, m);
    read_hooks(top, m);
    read_services(top, m);
    return m;
}

Manifest parse_manifest_file(const std::string& path) {
    std::string text;
    try {
        text = read_file_limited(path, manifest_size_limit);
    } catch (const Error& e) {
        throw Error(Errc::manifest, std::string("cannot read manifest: ") + e.what(),
                    e.code() == Errc::not_found
                        ? "check the path, or create a manifest with `karapace new`"
                        : "check that the path names a readable karapace.toml");
    }
    return parse_manifest(text, path);
}

}  // namespace karapace::schema
