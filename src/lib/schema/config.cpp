#include "karapace/schema/config.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "karapace/schema/mount.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "schema/text.hpp"
#include "schema/toml_reader.hpp"

namespace karapace::schema {

using detail::fail_at;
using detail::TableReader;

namespace {
constexpr std::size_t config_size_limit = 1024 * 1024;
}

std::string user_config_path() { return xdg_config_home() + "/karapace/config.toml"; }

UserConfig parse_user_config(std::string_view text, const std::string& source_name,
                             const std::string& home) {
    detail::TomlSource src{source_name, Errc::failed, "docs/manifest.md (user configuration)"};
    toml::value root = detail::parse_toml(text, src);
    TableReader top(src, root, "", {"mounts", "images", "remote"});
    UserConfig cfg;
    cfg.source = source_name;
    if (auto mounts = top.table("mounts", {"allow"})) {
        auto allow = mounts->string_array("allow");
        const auto& elems = allow ? mounts->find("allow")->as_array() : toml::array{};
        for (std::size_t i = 0; allow && i < allow->size(); ++i) {
            std::string p = detail::trim((*allow)[i]);
            if (p == "~" || p.rfind("~/", 0) == 0) p = home + p.substr(1);
            if (p.empty() || p[0] != '/' || detail::has_control_char(p))
                fail_at(src, detail::value_position(elems[i]),
                        log::cat("element ", i, " of 'mounts.allow' must be an absolute path or ",
                                 "start with '~/', not ", detail::toml_basic_string((*allow)[i])),
                        "write allow = [\"/srv/data\"]");
            p = lexically_absolute(p, "/");
            cfg.mount_allow.push_back(p);
        }
    }
    if (auto images = top.table("images", {"server", "bootstrap_mirror", "arch", "registry"})) {
        if (auto server = images->string("server")) {
            std::string s = detail::trim(*server);
            bool scheme = s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0 ||
                          s.rfind("file://", 0) == 0;
            if (!scheme || detail::has_control_char(s) || s.find(' ') != std::string::npos)
                fail_at(src, detail::value_position(*images->find("server")),
                        "key 'images.server' must be an http://, https:// or file:// URL, not " +
                            detail::toml_basic_string(*server),
                        "write server = \"https://images.linuxcontainers.org\"");
            while (s.size() > 1 && s.back() == '/')
                s.pop_back();
            cfg.image_server = s;
        }
        for (const char* key : {"bootstrap_mirror", "arch", "registry"}) {
            auto value = images->string(key);
            if (!value) continue;
            std::string v = detail::trim(*value);
            if (v.empty() || detail::has_control_char(v) || v.find(' ') != std::string::npos)
                fail_at(src, detail::value_position(*images->find(key)),
                        "key '" + images->path_of(key) + "' must be a non-empty word, not " +
                            detail::toml_basic_string(*value),
                        std::string(key) == "arch"       ? "write arch = \"arm64\""
                        : std::string(key) == "registry" ? "write registry = \"quay.io\""
                                                         : "write bootstrap_mirror = "
                                                           "\"http://deb.debian.org/debian\"");
            if (std::string(key) == "registry" &&
                v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-:[]") !=
                    std::string::npos)
                fail_at(src, detail::value_position(*images->find(key)),
                        "key 'images.registry' must be a registry host[:port], not " +
                            detail::toml_basic_string(*value),
                        "write registry = \"quay.io\"");
            (std::string(key) == "arch"       ? cfg.image_arch
             : std::string(key) == "registry" ? cfg.default_registry
                                              : cfg.bootstrap_mirror) = v;
        }
    }
    if (auto remote = top.table("remote", {"url", "credentials"})) {
        if (auto url = remote->string("url")) {
            std::string u = detail::trim(*url);
            if (u.empty() || detail::has_control_char(u) || u.find(' ') != std::string::npos)
                fail_at(src, detail::value_position(*remote->find("url")),
                        "key 'remote.url' must be a registry address, not " +
                            detail::toml_basic_string(*url),
                        "write url = \"https://registry.example.org/team\"");
            cfg.remote_url = u;
        }
        if (auto creds = remote->table("credentials", {}, true)) {
            for (const auto& host : creds->keys_in_order()) {
                auto login = creds->table(host, {"username", "password"});
                RegistryLogin l;
                l.username = login->required_string("username");
                l.password = login->required_string("password");
                cfg.registry_credentials[host] = l;
            }
        }
    }
    return cfg;
}

UserConfig load_user_config(const std::string& path, const std::string& home) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return {};
    std::string text;
    try {
        text = read_file_limited(path, config_size_limit);
    } catch (const Error& e) {
        throw Error(e.code(), std::string("cannot read the karapace configuration: ") + e.what(),
                    "fix the file's permissions or remove it");
    }
    try {
        auto cfg = parse_user_config(text, path, home);
        // Passwords in a file others can read are as good as published.
        if (!cfg.registry_credentials.empty() && (st.st_mode & 077) != 0)
            log::warn(path,
                      " holds registry passwords but is readable by other users; run: chmod "
                      "600 ",
                      path);
        return cfg;
    } catch (const Error& e) {
        throw Error(
            e.code(), e.what(),
            e.hint() + (e.hint().empty() ? "" : "; ") + "the configuration file is " + path);
    }
}

UserConfig load_user_config() { return load_user_config(user_config_path(), home_dir()); }

std::vector<std::string> mount_allowlist(const UserConfig& config, const std::string& home) {
    std::vector<std::string> wanted = default_mount_allowlist(home);
    wanted.insert(wanted.end(), config.mount_allow.begin(), config.mount_allow.end());
    std::vector<std::string> out;
    auto add = [&out](const std::string& p) {
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    for (const auto& p : wanted) {
        add(p);
        // Mount sources are compared after realpath, so an allowed directory reached through a
        // symlink (/home -> /var/home on Fedora Atomic desktops) must be allowed under its real
        // name too.
        if (char* real = ::realpath(p.c_str(), nullptr)) {
            add(real);
            std::free(real);
        }
    }
    return out;
}

}  // namespace karapace::schema
