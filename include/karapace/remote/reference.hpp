// Where an environment lives in an OCI registry: the remote (a registry address with an optional
// repository prefix, from --remote or `[remote] url`) and image references
// `[scheme://]host[:port]/repository[:tag][@sha256:<hex>]`, also relative to the remote
// (`web:v1`). Plain http is chosen only for loopback hosts or when the text says `http://`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "karapace/util/digest.hpp"

namespace karapace::remote {

// A registry address plus an optional repository prefix: `https://ghcr.io/alice`.
struct Remote {
    std::string scheme;  // "http" or "https"
    std::string host;    // host[:port], as used in URLs and credential lookups
    std::string prefix;  // repository path prefix, possibly empty ("alice", "team/envs")

    // "https://ghcr.io/alice"
    std::string str() const;
    friend bool operator==(const Remote&, const Remote&) = default;
};

struct ImageReference {
    std::string scheme;  // "http" or "https"
    std::string host;    // host[:port]
    std::string repository;
    std::string tag;               // empty when only a digest was given
    std::optional<Digest> digest;  // @sha256:<hex>

    // "host/repository:tag", "host/repository@sha256:…" (the scheme is left out).
    std::string str() const;
    // "host/repository"
    std::string repository_path() const { return host + "/" + repository; }
    // The tag, or the digest when there is no tag: what /v2/<name>/manifests/<reference> takes.
    std::string manifest_reference() const;
    // "https://host/v2/repository"
    std::string base_url() const { return scheme + "://" + host + "/v2/" + repository; }
};

// True for localhost, 127.0.0.0/8 and ::1 (with or without a port): the hosts where plain http
// is the default.
bool is_loopback_host(std::string_view host);

// Parses --remote / `[remote] url`. Error(usage) saying what is wrong.
Remote parse_remote(std::string_view text);

// Parses a reference to pull. A first component with a '.', a ':' or "localhost", or an explicit
// scheme, names the registry; anything else is relative to `remote` (an Error(usage) when there is
// none). Without tag or digest the tag is "latest". When `remote` names the same host, its scheme
// is used.
ImageReference parse_reference(std::string_view text, const std::optional<Remote>& remote);

// An image name as podman and docker read it (the `docker://` of a base image left out):
// `[host[:port]/]repository[:tag][@sha256:<hex>]`. A first component with a '.', a ':' or
// "localhost" names the registry; otherwise the registry is `default_registry`, and on docker.io a
// one-component repository lives in `library/` (ubuntu -> docker.io/library/ubuntu). Without tag
// or digest the tag is "latest". Error(usage) saying what is wrong.
ImageReference parse_image_name(std::string_view text, std::string_view default_registry);

// Where `push` publishes: `tag` is empty (repository `default_repository`, tag "latest"), a bare
// tag ("v1"), `repository:tag` relative to the remote, or a full reference.
ImageReference push_target(std::string_view tag, const std::string& default_repository,
                           const std::optional<Remote>& remote);

// An environment name as a repository component: lower-cased; Error(usage) when the result is
// still not a valid component (then the user names the repository with --tag).
std::string repository_for_name(std::string_view env_name);

// The remote named by --remote when `flag` is not empty, else `[remote] url` of
// ~/.config/karapace/config.toml, else nullopt.
std::optional<Remote> choose_remote(std::string_view flag);

bool valid_repository(std::string_view repository) noexcept;
bool valid_tag(std::string_view tag) noexcept;

}  // namespace karapace::remote
