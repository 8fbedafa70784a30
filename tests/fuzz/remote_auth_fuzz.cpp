// libFuzzer target for what a registry or a user hands the remote layer as text: WWW-Authenticate
// challenges, base64 credentials and image references. Readers must not crash; a parsed
// reference written out again must read back the same, and base64 must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "invariant.hpp"
#include "karapace/remote/auth.hpp"
#include "karapace/remote/reference.hpp"
#include "karapace/util/error.hpp"

namespace {

using karapace::fuzz::require;

using namespace karapace::remote;

bool same(const ImageReference& a, const ImageReference& b) {
    return a.scheme == b.scheme && a.host == b.host && a.repository == b.repository &&
           a.tag == b.tag && a.digest == b.digest;
}

void check_reference(std::string_view text, const std::optional<Remote>& remote) {
    try {
        auto ref = parse_reference(text, remote);
        require(!ref.host.empty() && valid_repository(ref.repository),
                "a parsed reference has a host and a valid repository");
        require(ref.tag.empty() || valid_tag(ref.tag), "a parsed reference has a valid tag");
        auto again = parse_reference(ref.scheme + "://" + ref.str(), std::nullopt);
        require(same(again, ref), "a reference written out reads back the same");
        (void)ref.manifest_reference();
        (void)ref.base_url();
    } catch (const karapace::Error&) {}
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    for (const auto& ch : parse_www_authenticate(text)) {
        require(!ch.scheme.empty(), "a challenge has a scheme");
        (void)ch.param("realm");
    }

    auto decoded = base64_decode(text);
    if (decoded) require(base64_decode(base64_encode(*decoded)) == decoded, "base64 round trip");
    require(base64_decode(base64_encode(text)) == std::string(text), "base64 of any bytes");

    (void)is_loopback_host(text);
    check_reference(text, std::nullopt);
    check_reference(text, Remote{"https", "ghcr.io", "alice"});
    try {
        auto remote = parse_remote(text);
        require(parse_remote(remote.str()) == remote, "a remote written out reads back the same");
        check_reference("web:v1", remote);
    } catch (const karapace::Error&) {}
    try {
        (void)push_target(text, "web", Remote{"http", "127.0.0.1:5000", ""});
    } catch (const karapace::Error&) {}
    try {
        (void)repository_for_name(text);
    } catch (const karapace::Error&) {}
    return 0;
}
