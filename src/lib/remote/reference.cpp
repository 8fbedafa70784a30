#include "karapace/remote/reference.hpp"

#include <cctype>
#include <vector>

#include "karapace/util/error.hpp"

namespace karapace::remote {

namespace {

[[noreturn]] void bad(std::string_view text, const std::string& why, std::string hint = {}) {
    if (hint.empty())
        hint = "write host[:port]/repository[:tag], for example 127.0.0.1:5000/team/web:v1";
    throw Error(Errc::usage, "invalid registry reference '" + std::string(text) + "': " + why,
                std::move(hint));
}

bool is_lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*  (the distribution grammar).
bool valid_component(std::string_view c) noexcept {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    for (std::size_t i = 0; i < c.size();) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j]))
            ++j;
        auto sep = c.substr(i, j - i);
        bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
        if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
        i = j;
    }
    return true;
}

bool valid_host(std::string_view host) noexcept {
    if (host.empty() || host.size() > 255) return false;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
              c == '[' || c == ']'))
            return false;
    return true;
}

// "127.0.0.1:5000" -> "127.0.0.1"; "[::1]:5000" -> "::1".
std::string_view host_name(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(1, close - 1);
    }
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos && host.find(':') == colon) return host.substr(0, colon);
    return host;
}

bool looks_like_host(std::string_view first) {
    return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
           first == "localhost" || (!first.empty() && first.front() == '[');
}

std::string default_scheme(std::string_view host) {
    return is_loopback_host(host) ? "http" : "https";
}

struct SchemeSplit {
    std::string scheme;  // empty when the text has none
    std::string_view rest;
};

SchemeSplit split_scheme(std::string_view text) {
    for (std::string_view s : {"https://", "http://", "docker://"})
        if (text.substr(0, s.size()) == s) {
            std::string scheme(s.substr(0, s.size() - 3));
            if (scheme == "docker") scheme.clear();
            return {scheme, text.substr(s.size())};
        }
    if (text.find("://") != std::string_view::npos)
        bad(text, "unsupported URL scheme", "use https:// (or http:// for a local registry)");
    return {"", text};
}

// "repo/path:tag@sha256:..." into its parts; the repository is validated.
void split_name(std::string_view text, std::string_view name, ImageReference& ref) {
    if (auto at = name.find('@'); at != std::string_view::npos) {
        auto d = name.substr(at + 1);
        if (d.substr(0, 7) != "sha256:" || !Digest::is_hex(d.substr(7)))
            bad(text, "a digest must be sha256:<64 lower-case hex>");
        ref.digest = Digest::from_hex(d.substr(7));
        name = name.substr(0, at);
    }
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        ref.tag = std::string(name.substr(colon + 1));
        name = name.substr(0, colon);
        if (!valid_tag(ref.tag))
            bad(text, "the tag '" + ref.tag + "' is not valid",
                "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
    }
    if (ref.repository.empty())
        ref.repository = std::string(name);
    else if (!name.empty())
        ref.repository += "/" + std::string(name);
    if (!valid_repository(ref.repository))
        bad(text, "'" + ref.repository + "' is not a valid repository name",
            "repository names are lower-case path components of letters and digits, separated "
            "by '.', '_' or '-'");
    if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
}

}  // namespace

std::string Remote::str() const {
    return scheme + "://" + host + (prefix.empty() ? "" : "/" + prefix);
}

std::string ImageReference::str() const {
    std::string out = host + "/" + repository;
    if (!tag.empty()) out += ":" + tag;
    if (digest) out += "@" + digest->str();
    return out;
}

std::string ImageReference::manifest_reference() const { return digest ? digest->str() : tag; }

bool is_loopback_host(std::string_view host) {
    auto name = host_name(host);
    return name == "localhost" || name == "::1" || name.substr(0, 4) == "127.";
}

bool valid_repository(std::string_view repository) noexcept {
    if (repository.empty() || repository.size() > 255) return false;
    std::size_t start = 0;
    while (true) {
        auto slash = repository.find('/', start);
        if (!valid_component(repository.substr(start, slash - start))) return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

bool valid_tag(std::string_view tag) noexcept {
    if (tag.empty() || tag.size() > 128 || tag.front() == '.' || tag.front() == '-') return false;
    for (char c : tag)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
            return false;
    return true;
}

Remote parse_remote(std::string_view text) {
    auto hint =
        "write https://registry.example.org/prefix, or http://127.0.0.1:5000 for a "
        "local registry";
    if (text.empty()) bad(text, "it is empty", hint);
    auto [scheme, rest] = split_scheme(text);
    while (!rest.empty() && rest.back() == '/')
        rest.remove_suffix(1);
    auto slash = rest.find('/');
    Remote r;
    r.host = std::string(rest.substr(0, slash));
    if (!valid_host(r.host)) bad(text, "'" + r.host + "' is not a registry host", hint);
    r.scheme = scheme.empty() ? default_scheme(r.host) : scheme;
    if (slash != std::string_view::npos) {
        r.prefix = std::string(rest.substr(slash + 1));
        if (!valid_repository(r.prefix))
            bad(text, "the path '" + r.prefix + "' is not a valid repository prefix", hint);
    }
    return r;
}

ImageReference parse_reference(std::string_view text, const std::optional<Remote>& remote) {
    if (text.empty()) bad(text, "it is empty");
    for (char c : text)
        if (std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)))
            bad(text, "it contains spaces or control characters");
    auto [scheme, rest] = split_scheme(text);
    ImageReference ref;
    auto slash = rest.find('/');
    std::string_view first = rest.substr(0, slash);
    if (!scheme.empty() || (slash != std::string_view::npos && looks_like_host(first))) {
        if (slash == std::string_view::npos) bad(text, "no repository after the registry");
        ref.host = std::string(first);
        if (!valid_host(ref.host)) bad(text, "'" + ref.host + "' is not a registry host");
        ref.scheme = !scheme.empty()                        ? scheme
                     : (remote && remote->host == ref.host) ? remote->scheme
                                                            : default_scheme(ref.host);
        split_name(text, rest.substr(slash + 1), ref);
        return ref;
    }
    if (!remote)
        bad(text, "it names no registry and no default remote is configured",
            "write the full reference (host[:port]/repository:tag), pass --remote URL, or set "
            "url in the [remote] table of ~/.config/karapace/config.toml");
    ref.scheme = remote->scheme;
    ref.host = remote->host;
    ref.repository = remote->prefix;
    split_name(text, rest, ref);
    return ref;
}

ImageReference parse_image_name(std::string_view text, std::string_view default_registry) {
    if (text.empty()) bad(text, "it is empty");
    for (char c : text)
        if (std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)))
            bad(text, "it contains spaces or control characters");
    auto slash = text.find('/');
    std::string_view first = text.substr(0, slash);
    ImageReference ref;
    std::string_view name = text;
    if (slash != std::string_view::npos && looks_like_host(first)) {
        ref.host = std::string(first);
        name = text.substr(slash + 1);
    } else {
        ref.host = std::string(default_registry);
        if (ref.host == "docker.io" && name.find('/') == std::string_view::npos)
            ref.repository = "library";
    }
    if (!valid_host(ref.host)) bad(text, "'" + ref.host + "' is not a registry host");
    if (name.empty()) bad(text, "no repository after the registry");
    ref.scheme = default_scheme(ref.host);
    split_name(text, name, ref);
    return ref;
}

ImageReference push_target(std::string_view tag, const std::string& default_repository,
                           const std::optional<Remote>& remote) {
    bool bare_tag = !tag.empty() && tag.find('/') == std::string_view::npos &&
                    tag.find(':') == std::string_view::npos &&
                    tag.find('@') == std::string_view::npos;
    if (tag.empty() || bare_tag) {
        if (bare_tag && !valid_tag(tag))
            bad(tag, "'" + std::string(tag) + "' is not a valid tag",
                "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
        std::string text = default_repository + ":" + std::string(tag.empty() ? "latest" : tag);
        return parse_reference(text, remote);
    }
    auto ref = parse_reference(tag, remote);
    if (ref.digest)
        bad(tag, "push publishes under a tag, not a digest",
            "give --tag repository:tag; the digest is printed after the push");
    return ref;
}

std::string repository_for_name(std::string_view env_name) {
    std::string out;
    for (char c : env_name)
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!valid_component(out))
        throw Error(Errc::usage,
                    "the environment name '" + std::string(env_name) +
                        "' is not a valid registry repository name",
                    "name the repository yourself: --tag <repository>:<tag>");
    return out;
}

}  // namespace karapace::remote
