#include "karapace/image/reference.hpp"

#include <algorithm>
#include <cctype>

#include "karapace/remote/reference.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/text.hpp"

namespace karapace::image {

namespace {

struct FixedAlias {
    std::string_view name;
    std::string_view distro;
    std::string_view release;
};

// The seed's names plus the numeric forms of Debian/Ubuntu releases. Bare distro names point at
// the release the seed chose, so existing manifests keep their meaning.
constexpr FixedAlias fixed_aliases[] = {
    {"rolling", "opensuse", "tumbleweed"},
    {"opensuse", "opensuse", "tumbleweed"},
    {"tumbleweed", "opensuse", "tumbleweed"},
    {"opensuse/tumbleweed", "opensuse", "tumbleweed"},
    {"leap", "opensuse", "15.6"},
    {"opensuse/leap", "opensuse", "15.6"},
    {"ubuntu", "ubuntu", "noble"},
    {"ubuntu/24.04", "ubuntu", "noble"},
    {"ubuntu/noble", "ubuntu", "noble"},
    {"ubuntu/22.04", "ubuntu", "jammy"},
    {"ubuntu/jammy", "ubuntu", "jammy"},
    {"ubuntu/20.04", "ubuntu", "focal"},
    {"ubuntu/focal", "ubuntu", "focal"},
    {"ubuntu/24.10", "ubuntu", "oracular"},
    {"ubuntu/oracular", "ubuntu", "oracular"},
    {"ubuntu/25.04", "ubuntu", "plucky"},
    {"debian", "debian", "bookworm"},
    {"debian/bookworm", "debian", "bookworm"},
    {"debian/12", "debian", "bookworm"},
    {"debian/trixie", "debian", "trixie"},
    {"debian/13", "debian", "trixie"},
    {"debian/bullseye", "debian", "bullseye"},
    {"debian/11", "debian", "bullseye"},
    {"debian/sid", "debian", "sid"},
    {"fedora", "fedora", "41"},
    {"arch", "archlinux", "current"},
    {"archlinux", "archlinux", "current"},
    {"alpine", "alpine", "edge"},
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Names of distros, releases and variants on simplestreams servers: "15.6", "current", "3.20".
bool is_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return parts;
}

[[noreturn]] void bad(std::string_view text, const std::string& why, std::string hint = {}) {
    throw Error(Errc::image, log::cat("invalid image reference '", text, "': ", why),
                std::move(hint));
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += sep;
        out += item;
    }
    return out;
}

Digest parse_hex_digest(std::string_view text, std::string_view hex) {
    std::string h = ascii_lower(hex);
    if (!Digest::is_hex(h))
        bad(text, "the sha256 must be 64 hexadecimal characters",
            "write it as #sha256=<64 hex> (sha256sum prints it)");
    return Digest::from_hex(h);
}

ImageRef parse_url(std::string_view text) {
    ImageRef ref;
    ref.kind = RefKind::url;
    std::string_view body = text;
    if (auto hash = text.find('#'); hash != std::string_view::npos) {
        body = text.substr(0, hash);
        auto fragment = text.substr(hash + 1);
        if (!starts_with(fragment, "sha256="))
            bad(text, "the only fragment understood is #sha256=<hex>");
        ref.sha256 = parse_hex_digest(text, fragment.substr(7));
    }
    auto scheme_end = body.find("://");
    auto rest = body.substr(scheme_end + 3);
    if (starts_with(body, "file://")) {
        if (!starts_with(rest, "/")) bad(text, "a file URL needs an absolute path (file:///…)");
    } else if (rest.empty() || rest.front() == '/') {
        bad(text, "the URL has no host");
    }
    for (char c : body)
        if (std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)))
            bad(text, "URLs cannot contain spaces or control characters",
                "percent-encode them (%20)");
    ref.url = std::string(body);
    return ref;
}

// The same grammar as `karapace pull` names (one parser: remote::parse_image_name), with the
// registry docker.io when none is named; resolve() puts the configured default registry there.
ImageRef parse_oci(std::string_view text) {
    ImageRef ref;
    ref.kind = RefKind::oci;
    remote::ImageReference name;
    try {
        name = remote::parse_image_name(text.substr(9), "docker.io");  // after "docker://"
    } catch (const Error& e) {
        std::string why = e.what();
        if (auto colon = why.find("': "); colon != std::string::npos) why = why.substr(colon + 3);
        bad(text, why, e.hint());
    }
    auto first = text.substr(9, text.substr(9).find('/'));
    ref.short_name = name.host == "docker.io" && first != "docker.io";
    ref.registry = name.host;
    ref.repository = name.repository;
    ref.tag = name.tag;
    ref.oci_digest = name.digest;
    return ref;
}

ImageRef parse_bootstrap(std::string_view text) {
    ImageRef ref;
    ref.kind = RefKind::bootstrap;
    std::string body = ascii_lower(text.substr(10));  // after "bootstrap:"
    if (auto at = body.find('@'); at != std::string::npos) {
        ref.snapshot = body.substr(at + 1);
        for (auto& c : ref.snapshot)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        body.resize(at);
        if (!is_snapshot_timestamp(ref.snapshot))
            bad(text, "the snapshot must be a timestamp YYYYMMDDTHHMMSSZ",
                "for example bootstrap:debian/bookworm@20261128T000000Z");
    }
    auto parts = split(body, '/');
    if (parts.size() != 2 || (parts[0] != "debian" && parts[0] != "ubuntu") || !is_name(parts[1]))
        bad(text, "expected bootstrap:debian/<suite> or bootstrap:ubuntu/<suite>",
            "for example bootstrap:debian/bookworm");
    ref.distro = std::string(parts[0]);
    ref.suite = std::string(parts[1]);
    return ref;
}

std::string unknown_alias_hint() {
    return "use one of the aliases above, <distro>/<release> for a distro published by the image "
           "server, images:<distro>/<release>, an http(s):// or file:// tarball URL, or "
           "bootstrap:debian/<suite>";
}

ImageRef parse_alias(std::string_view text) {
    std::string name = ascii_lower(text);
    ImageRef ref;
    ref.kind = RefKind::alias;
    ref.alias = name;
    for (const auto& a : fixed_aliases) {
        if (a.name == name) {
            ref.distro = std::string(a.distro);
            ref.release = std::string(a.release);
            return ref;
        }
    }
    bool explicit_server = starts_with(name, "images:");
    auto parts = split(explicit_server ? std::string_view(name).substr(7) : name, '/');
    bool known = explicit_server || std::find(known_distros().begin(), known_distros().end(),
                                              parts[0]) != known_distros().end();
    if (!known || parts.size() < 2 || parts.size() > 3) {
        throw Error(
            Errc::image,
            log::cat("unknown image '", text, "'; known aliases: ", join(known_aliases(), ", ")),
            unknown_alias_hint());
    }
    for (auto part : parts)
        if (!is_name(part))
            bad(text, log::cat("'", part, "' is not a valid distro, release or variant name"));
    ref.distro = std::string(parts[0]);
    ref.release = std::string(parts[1]);
    if (parts.size() == 3) ref.variant = std::string(parts[2]);
    return ref;
}

}  // namespace

const std::vector<std::string>& known_distros() {
    static const std::vector<std::string> distros{
        "almalinux", "alpine",     "alt",       "amazonlinux", "archlinux", "busybox",
        "centos",    "debian",     "devuan",    "fedora",      "gentoo",    "kali",
        "mint",      "nixos",      "openeuler", "opensuse",    "openwrt",   "oracle",
        "plamo",     "rockylinux", "slackware", "ubuntu",      "voidlinux",
    };
    return distros;
}

std::vector<std::string> known_aliases() {
    std::vector<std::string> names;
    for (const auto& a : fixed_aliases)
        names.emplace_back(a.name);
    names.emplace_back("fedora/<release>");
    names.emplace_back("alpine/<version>");
    names.emplace_back("<distro>/<release>");
    return names;
}

bool is_snapshot_timestamp(std::string_view t) {
    if (t.size() != 16 || t[8] != 'T' || t[15] != 'Z') return false;
    for (std::size_t i = 0; i < 15; ++i)
        if (i != 8 && !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    auto num = [&](std::size_t pos, std::size_t len) {
        return std::stoi(std::string(t.substr(pos, len)));
    };
    int month = num(4, 2), day = num(6, 2), hour = num(9, 2), minute = num(11, 2),
        second = num(13, 2);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 &&
           second <= 60;
}

ImageRef ImageRef::parse(std::string_view raw) {
    std::string_view text = trim(raw);
    if (text.empty())
        throw Error(Errc::image, "empty image reference",
                    "set base.image, for example image = \"debian/bookworm\"");
    std::string head = ascii_lower(text.substr(0, std::min<std::size_t>(text.size(), 10)));
    if (starts_with(head, "http://") || starts_with(head, "https://") ||
        starts_with(head, "file://")) {
        // The scheme is case-insensitive; the rest of a URL is not (the seed lower-cased it all).
        std::string normalised = ascii_lower(text.substr(0, text.find("://"))) +
                                 std::string(text.substr(text.find("://")));
        return parse_url(normalised);
    }
    if (starts_with(head, "docker://")) return parse_oci(text);
    if (starts_with(head, "bootstrap:")) return parse_bootstrap(text);
    if (text.find("://") != std::string_view::npos)
        bad(text, "unsupported URL scheme", "use http://, https://, file:// or docker://");
    return parse_alias(text);
}

bool ImageRef::is_pinned() const {
    switch (kind) {
    case RefKind::alias: return false;
    case RefKind::url: return sha256.has_value();
    case RefKind::oci: return oci_digest.has_value();
    case RefKind::bootstrap: return !snapshot.empty();
    }
    return false;
}

std::string ImageRef::str() const {
    switch (kind) {
    case RefKind::alias: return alias;
    case RefKind::url: return sha256 ? url + "#sha256=" + sha256->hex() : url;
    case RefKind::oci: {
        std::string out = "docker://" + registry + "/" + repository;
        if (!tag.empty()) out += ":" + tag;
        if (oci_digest) out += "@" + oci_digest->str();
        return out;
    }
    case RefKind::bootstrap:
        return "bootstrap:" + distro + "/" + suite + (snapshot.empty() ? "" : "@" + snapshot);
    }
    return {};
}

std::string ImageRef::product_id(std::string_view arch) const {
    return log::cat(distro, ":", release, ":", arch, ":", variant);
}

}  // namespace karapace::image
