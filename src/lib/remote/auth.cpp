#include "karapace/remote/auth.hpp"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "karapace/schema/config.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/text.hpp"

namespace karapace::remote {

namespace {

constexpr std::size_t auth_file_limit = 4 * 1024 * 1024;

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

struct Cursor {
    std::string_view s;
    std::size_t i = 0;
    bool done() const { return i >= s.size(); }
    void skip_space() {
        while (!done() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
    }
    void skip_space_and_commas() {
        while (!done() && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
            ++i;
    }
    std::string token() {
        std::size_t start = i;
        while (!done() && is_token_char(s[i]))
            ++i;
        return std::string(s.substr(start, i - start));
    }
    // Unquoted values should be tokens, but realms are sent bare often enough (URLs): read up to
    // the next comma or space.
    std::string bare() {
        std::size_t start = i;
        while (!done() && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
            ++i;
        return std::string(s.substr(start, i - start));
    }
    std::string quoted() {  // at the opening quote
        std::string out;
        ++i;
        while (!done() && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < s.size()) ++i;
            out += s[i++];
        }
        if (!done()) ++i;
        return out;
    }
};

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

}  // namespace

std::string auth_key_host(std::string_view key) {
    if (auto p = key.find("://"); p != std::string_view::npos) key = key.substr(p + 3);
    if (auto slash = key.find('/'); slash != std::string_view::npos) key = key.substr(0, slash);
    return ascii_lower(key);
}

std::vector<Challenge> parse_www_authenticate(std::string_view value) {
    std::vector<Challenge> out;
    Cursor c{value};
    while (true) {
        c.skip_space_and_commas();
        if (c.done()) break;
        std::string scheme = c.token();
        if (scheme.empty()) break;
        Challenge ch;
        ch.scheme = ascii_lower(scheme);
        // auth-params: key=value or key="quoted", separated by commas. A token followed by
        // whitespace and another token (no '=') starts the next challenge.
        while (true) {
            c.skip_space_and_commas();
            if (c.done()) break;
            std::size_t mark = c.i;
            std::string key = c.token();
            c.skip_space();
            if (key.empty() || c.done() || c.s[c.i] != '=') {
                c.i = mark;
                break;
            }
            ++c.i;
            c.skip_space();
            std::string v = (!c.done() && c.s[c.i] == '"') ? c.quoted() : c.bare();
            ch.params[ascii_lower(key)] = v;
        }
        out.push_back(std::move(ch));
        if (c.i < value.size() && !is_token_char(value[c.i]) && value[c.i] != ' ' &&
            value[c.i] != ',')
            break;  // garbage: stop rather than loop
    }
    return out;
}

// RFC 4648 base64, written out here: the CLI does not load libcrypto for small work.
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve(4 * ((data.size() + 2) / 3));
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::uint32_t n = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) n |= static_cast<unsigned char>(data[i + 1]) << 8;
        if (i + 2 < data.size()) n |= static_cast<unsigned char>(data[i + 2]);
        out += kBase64[(n >> 18) & 63];
        out += kBase64[(n >> 12) & 63];
        out += i + 1 < data.size() ? kBase64[(n >> 6) & 63] : '=';
        out += i + 2 < data.size() ? kBase64[n & 63] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string clean;
    for (char ch : text)
        if (!std::isspace(static_cast<unsigned char>(ch))) clean += ch;
    if (clean.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(clean.size() / 4 * 3);
    for (std::size_t i = 0; i < clean.size(); i += 4) {
        std::uint32_t n = 0;
        int pad = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            char ch = clean[i + k];
            if (ch == '=') {
                // Padding only at the very end, and at most two.
                if (i + 4 != clean.size() || k < 2) return std::nullopt;
                ++pad;
                n <<= 6;
                continue;
            }
            if (pad > 0) return std::nullopt;
            auto pos = kBase64.find(ch);
            if (pos == std::string_view::npos) return std::nullopt;
            n = (n << 6) | static_cast<std::uint32_t>(pos);
        }
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

std::string basic_authorization(const Credentials& c) {
    return "Basic " + base64_encode(c.username + ":" + c.password);
}

std::optional<Credentials> credentials_from_helper(const std::string& helper, std::string_view host,
                                                   const std::string& source) {
    const std::string program = "docker-credential-" + helper;
    if (helper.empty() || helper.find('/') != std::string::npos || !find_program(program)) {
        log::warn("ignoring the credential helper '", helper, "' named in ", source, ": no ",
                  program, " on PATH");
        return std::nullopt;
    }
    RunOptions opts;
    opts.stdin_data = std::string(host) + "\n";
    auto r = run_process({program, "get"}, opts);
    // "credentials not found in native keychain" (exit 1): nothing stored for this registry.
    if (!r.ok()) return std::nullopt;
    boost::system::error_code ec;
    auto doc = boost::json::parse(r.out, ec);
    const auto* o = !ec && doc.is_object() ? &doc.as_object() : nullptr;
    const auto* user = o ? o->if_contains("Username") : nullptr;
    const auto* secret = o ? o->if_contains("Secret") : nullptr;
    if (!user || !user->is_string() || !secret || !secret->is_string()) {
        log::warn(program, " get gave no Username and Secret for ", host);
        return std::nullopt;
    }
    return Credentials{std::string(user->as_string()), std::string(secret->as_string()),
                       program + " (" + source + ")"};
}

std::optional<Credentials> credentials_from_auth_json(std::string_view json, std::string_view host,
                                                      const std::string& source) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) {
        log::warn("ignoring ", source, ": not a JSON object");
        return std::nullopt;
    }
    const std::string want = ascii_lower(host);
    // As docker reads its config: a helper named for this registry first, then the stored entry,
    // then the helper for every registry.
    const auto& top = doc.as_object();
    if (const auto* helpers = top.if_contains("credHelpers"); helpers && helpers->is_object())
        for (const auto& [key, name] : helpers->as_object())
            if (auth_key_host(key) == want && name.is_string())
                return credentials_from_helper(std::string(name.as_string()), host, source);
    auto from_store = [&]() -> std::optional<Credentials> {
        const auto* store = top.if_contains("credsStore");
        if (!store || !store->is_string() || store->as_string().empty()) return std::nullopt;
        return credentials_from_helper(std::string(store->as_string()), host, source);
    };
    auto* auths = top.if_contains("auths");
    if (auths == nullptr || !auths->is_object()) return from_store();
    auto decode = [&](std::string_view key, const boost::json::value& entry) {
        std::optional<Credentials> out;
        auto* auth = entry.is_object() ? entry.as_object().if_contains("auth") : nullptr;
        if (auth == nullptr || !auth->is_string()) return out;
        auto decoded = base64_decode(std::string_view(auth->as_string()));
        auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos) {
            log::warn("ignoring the entry for ", key, " in ", source,
                      ": its auth value is not base64 of user:password");
            return out;
        }
        out = Credentials{decoded->substr(0, colon), decoded->substr(colon + 1), source};
        return out;
    };
    // The bare host[:port] first: an older spelling of the same registry may sit before it.
    for (const auto& [key, entry] : auths->as_object())
        if (ascii_lower(key) == want)
            if (auto c = decode(key, entry)) return c;
    for (const auto& [key, entry] : auths->as_object())
        if (ascii_lower(key) != want && auth_key_host(key) == want)
            if (auto c = decode(key, entry)) return c;
    return from_store();
}

std::vector<std::string> auth_file_candidates() {
    std::vector<std::string> out;
    if (auto f = env("REGISTRY_AUTH_FILE")) out.push_back(*f);
    if (auto run = env("XDG_RUNTIME_DIR")) out.push_back(*run + "/containers/auth.json");
    out.push_back(xdg_config_home() + "/containers/auth.json");
    if (auto docker = env("DOCKER_CONFIG"))
        out.push_back(*docker + "/config.json");
    else
        out.push_back(home_dir() + "/.docker/config.json");
    return out;
}

std::string login_auth_file() {
    if (auto f = env("REGISTRY_AUTH_FILE")) return *f;
    if (auto run = env("XDG_RUNTIME_DIR")) {
        struct stat st {};
        if (::stat(run->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw Error(Errc::failed,
                        "XDG_RUNTIME_DIR is " + *run +
                            ", which is not a directory, so the auth file cannot be kept there",
                        "set XDG_RUNTIME_DIR to your runtime directory or unset it, or name the "
                        "file with REGISTRY_AUTH_FILE");
        return *run + "/containers/auth.json";
    }
    return xdg_config_home() + "/containers/auth.json";
}

std::optional<Credentials> find_credentials(std::string_view host) {
    auto config = schema::load_user_config();
    const std::string want = ascii_lower(host);
    for (const auto& [key, login] : config.registry_credentials)
        if (ascii_lower(key) == want)
            return Credentials{login.username, login.password, config.source};
    for (const auto& path : auth_file_candidates()) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) continue;
        std::string text;
        try {
            text = read_file_limited(path, auth_file_limit);
        } catch (const Error& e) {
            log::warn("cannot read ", path, ": ", e.what());
            continue;
        }
        if (auto c = credentials_from_auth_json(text, host, path)) return c;
    }
    return std::nullopt;
}

std::optional<std::string> token_from_response(std::string_view json) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    for (const char* key : {"token", "access_token"})
        if (auto* t = doc.as_object().if_contains(key);
            t && t->is_string() && !t->as_string().empty())
            return std::string(t->as_string());
    return std::nullopt;
}

}  // namespace karapace::remote
