// Registry authentication: parsing `WWW-Authenticate` challenges (Basic and the Bearer token flow
// of the distribution spec) and finding the user's credentials for a registry host, in this
// order: `[remote.credentials."<host>"]` in ~/.config/karapace/config.toml, then the auth files
// that `podman login` and `docker login` write ($REGISTRY_AUTH_FILE,
// $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json,
// $DOCKER_CONFIG/config.json or ~/.docker/config.json).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::remote {

struct Challenge {
    std::string scheme;                         // lower case: "basic", "bearer"
    std::map<std::string, std::string> params;  // keys lower case: realm, service, scope, error

    std::string param(const std::string& key) const {
        auto it = params.find(key);
        return it == params.end() ? std::string() : it->second;
    }
};

// All challenges of one `WWW-Authenticate` header value, in order. Quoted strings may contain
// commas and escaped quotes. Malformed input gives what could be read (possibly nothing).
std::vector<Challenge> parse_www_authenticate(std::string_view value);

struct Credentials {
    std::string username;
    std::string password;
    std::string source;  // where they came from, for messages ("~/.docker/config.json")
};

// Standard base64 (with padding) and its inverse; decode returns nullopt on invalid input.
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

// `Basic <base64(user:password)>`
std::string basic_authorization(const Credentials& c);

// The host[:port] an auth file key names, lower case: "https://Host:5000/v1/" -> "host:5000".
std::string auth_key_host(std::string_view key);

// The credentials for `host` (host[:port]) from an auth file's JSON text: `auths.<key>.auth` is
// base64 "user:password"; keys may carry a scheme or a path (`https://index.docker.io/v1/`). The
// entry under the bare host[:port], as `karapace login` and `podman login` write it, comes first.
// As docker does: `credHelpers.<host>` = NAME runs `docker-credential-NAME get` (the host on its
// stdin, `{"Username", "Secret"}` on its stdout) instead, and `credsStore` = NAME is asked when
// no entry has credentials for the host.
std::optional<Credentials> credentials_from_auth_json(std::string_view json, std::string_view host,
                                                      const std::string& source);

// `docker-credential-HELPER get` for `host`; nullopt when it is not installed, has nothing for
// the host (a non-zero exit) or prints no Username and Secret.
std::optional<Credentials> credentials_from_helper(const std::string& helper, std::string_view host,
                                                   const std::string& source);

// The auth files looked at, in order (only those that exist are read).
std::vector<std::string> auth_file_candidates();
// The one `karapace login` writes: the first of the candidates, as `podman login` chooses it:
// $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else
// ~/.config/containers/auth.json. Error when XDG_RUNTIME_DIR names no directory.
std::string login_auth_file();

// Looks up `host` in the user configuration, then in the auth files. Nothing found: nullopt.
std::optional<Credentials> find_credentials(std::string_view host);

// The token in a token service's JSON answer (`token`, else `access_token`); nullopt if none.
std::optional<std::string> token_from_response(std::string_view json);

}  // namespace karapace::remote
