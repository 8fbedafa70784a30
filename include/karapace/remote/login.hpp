// `karapace login` and `logout`: credentials are checked against the registry first, then kept in
// the auth file `podman login` writes and push and pull read first (login_auth_file() in auth.hpp),
// as `{"auths": {"<host[:port]>": {"auth": "<base64 of user:password>"}}}`. Other entries and
// other top-level keys stay as they were; the file is replaced atomically with mode 0600.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/remote/auth.hpp"
#include "karapace/remote/registry.hpp"

namespace karapace::remote {

struct LoginResult {
    std::string registry;  // host[:port]: the key written
    std::string username;
    std::string auth_file;
    // False when the registry answered without asking for credentials: they could not be checked.
    bool verified = false;
    // Where push and pull find other credentials for the registry before the auth file (the
    // user's config.toml); empty when they use the ones just written.
    std::string shadowed_by;
};

// Checks `credentials` against `registry` (host[:port], optionally with http:// or https://),
// then writes them. Error(usage) for anything but a registry host or a user name with ':';
// Error(remote) when the registry refuses them or cannot be reached; nothing is written then.
LoginResult login(std::string_view registry, const Credentials& credentials,
                  const ClientOptions& options = {});

struct LogoutResult {
    std::string auth_file;
    std::vector<std::string> removed;  // the keys removed from the auth file
    // Where push and pull still find credentials for the registry (another entry or file, or
    // config.toml); empty when nowhere. Not set by logout_all().
    std::string still_found_in;
};

// Removes the entry of `registry` from the auth file; nothing removed when it has none.
LogoutResult logout(std::string_view registry);
// Removes every entry from the auth file.
LogoutResult logout_all();

// The auth file text `text` (empty: no file) with `auths.<host>` set to `credentials`, or
// without the entry of `host` (every entry when `host` is empty), the removed keys appended to
// `removed`. Error naming `path` when the text is not a JSON object with an object `auths`.
std::string auth_json_with(std::string_view text, const std::string& host,
                           const Credentials& credentials, const std::string& path);
std::string auth_json_without(std::string_view text, const std::string& host,
                              std::vector<std::string>& removed, const std::string& path);

}  // namespace karapace::remote
