#include "karapace/remote/login.hpp"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>

#include "karapace/remote/reference.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/text.hpp"

namespace karapace::remote {

namespace bj = boost::json;

namespace {

constexpr std::size_t auth_file_limit = std::size_t{4} * 1024 * 1024;

// The auth file as an object whose `auths` is an object; an empty text is a file not there yet.
bj::object parse_auth_file(std::string_view text, const std::string& path) {
    if (text.empty()) return bj::object{{"auths", bj::object{}}};
    boost::system::error_code ec;
    auto doc = bj::parse(text, ec);
    const std::string keep = "fix or move the file; it was left as it was";
    if (ec || !doc.is_object())
        throw Error(Errc::failed,
                    "the auth file " + path + " is not a JSON object" +
                        (ec ? " (" + ec.message() + ")" : std::string()),
                    keep);
    auto& o = doc.as_object();
    if (auto* auths = o.if_contains("auths")) {
        if (!auths->is_object())
            throw Error(Errc::failed,
                        "the auth file " + path + " has an \"auths\" that is not an object", keep);
    } else {
        o["auths"] = bj::object{};
    }
    return std::move(o);
}

// The file's text, or "" when there is none.
std::string read_auth_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        throw_errno(Errc::failed, "cannot examine the auth file " + path);
    }
    return read_file_limited(path, auth_file_limit);
}

// Replaces the file atomically, mode 0600, creating missing parent directories 0700. A symlink
// (an auth file shared with another tool) stays: its target is replaced.
void write_auth_file(const std::string& path, const std::string& text) {
    std::string target = path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        std::error_code ec;
        auto resolved = std::filesystem::weakly_canonical(path, ec);
        if (ec)
            throw Error(Errc::failed, "cannot follow the symlink " + path + ": " + ec.message(),
                        "point it at a file that can be written, or remove it");
        target = resolved.string();
    }
    make_dirs(parent_dir(target), 0700);
    write_file_atomic(target, text, 0600);
}

// The registry a login is for: its scheme and host[:port] (lower case), never a repository.
Remote registry_of(std::string_view text) {
    const std::string hint =
        "name the registry as host[:port], for example ghcr.io or 127.0.0.1:5000";
    Remote r;
    try {
        r = parse_remote(text);
    } catch (const Error& e) {
        throw Error(Errc::usage, e.what(), hint);
    }
    if (!r.prefix.empty())
        throw Error(Errc::usage,
                    "'" + std::string(text) + "' names a repository (" + r.prefix +
                        "); a login holds for the whole registry " + r.host,
                    hint);
    r.host = ascii_lower(r.host);
    return r;
}

}  // namespace

std::string auth_json_with(std::string_view text, const std::string& host,
                           const Credentials& credentials, const std::string& path) {
    auto o = parse_auth_file(text, path);
    auto& auths = o["auths"].as_object();
    bj::object entry;
    entry["auth"] = base64_encode(credentials.username + ":" + credentials.password);
    auths[host] = std::move(entry);
    return json::pretty(o);
}

std::string auth_json_without(std::string_view text, const std::string& host,
                              std::vector<std::string>& removed, const std::string& path) {
    auto o = parse_auth_file(text, path);
    auto& auths = o["auths"].as_object();
    for (auto it = auths.begin(); it != auths.end();) {
        if (host.empty() || ascii_lower(std::string(it->key())) == host) {
            removed.emplace_back(it->key());
            it = auths.erase(it);
        } else {
            ++it;
        }
    }
    return json::pretty(o);
}

LoginResult login(std::string_view registry, const Credentials& credentials,
                  const ClientOptions& options) {
    LoginResult r;
    const Remote remote = registry_of(registry);
    r.registry = remote.host;
    r.username = credentials.username;
    if (credentials.username.empty())
        throw Error(Errc::usage, "the user name is empty", "give it with --username NAME");
    if (credentials.username.find(':') != std::string::npos)
        throw Error(Errc::usage, "the user name '" + credentials.username + "' contains ':'",
                    "auth files keep user:password, so a user name cannot contain ':'");
    if (credentials.password.empty())
        throw Error(Errc::usage, "the password is empty", "nothing was written");
    r.auth_file = login_auth_file();
    // Read (and check) the file before asking the registry, so a broken file is reported first.
    const std::string before = read_auth_file(r.auth_file);
    const std::string after = auth_json_with(before, r.registry, credentials, r.auth_file);

    ImageReference ref;
    ref.scheme = remote.scheme;
    ref.host = r.registry;
    RegistryClient client(ref, Access::login, credentials, options);
    try {
        r.verified = client.check_login();
    } catch (const Error& e) {
        throw Error(e.code(), e.what(),
                    std::string(e.hint().empty() ? "" : e.hint() + "; ") +
                        "nothing was written to " + r.auth_file);
    }
    write_auth_file(r.auth_file, after);
    if (auto found = find_credentials(r.registry); found && found->source != r.auth_file)
        r.shadowed_by = found->source;
    return r;
}

LogoutResult logout(std::string_view registry) {
    LogoutResult r;
    const std::string host = registry_of(registry).host;
    r.auth_file = login_auth_file();
    const std::string text = read_auth_file(r.auth_file);
    if (!text.empty()) {
        const std::string after = auth_json_without(text, host, r.removed, r.auth_file);
        if (!r.removed.empty()) write_auth_file(r.auth_file, after);
    }
    if (auto found = find_credentials(host)) r.still_found_in = found->source;
    return r;
}

LogoutResult logout_all() {
    LogoutResult r;
    r.auth_file = login_auth_file();
    const std::string text = read_auth_file(r.auth_file);
    if (text.empty()) return r;
    const std::string after = auth_json_without(text, "", r.removed, r.auth_file);
    if (!r.removed.empty()) write_auth_file(r.auth_file, after);
    return r;
}

}  // namespace karapace::remote
