// A client of one repository on an OCI Distribution registry (distribution/registry, zot, Harbor,
// GHCR, Quay...) over libcurl: blobs and manifests by digest or tag, uploads streamed from files,
// downloads streamed to files and verified by sha256 while they arrive. Authentication is
// anonymous, HTTP Basic, or the Bearer token flow, chosen by the registry's 401 challenge.
// Transient failures (connection errors, timeouts, 408, 429, 5xx) are retried with backoff; every
// other failure is Error(remote) naming the registry, the repository and what to do.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "karapace/remote/auth.hpp"
#include "karapace/remote/reference.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::remote {

struct ClientOptions {
    std::chrono::seconds connect_timeout{15};
    // A transfer slower than `low_speed_bytes` per second for `low_speed_time` is aborted (and
    // retried).
    long low_speed_bytes = 1024;
    std::chrono::seconds low_speed_time{60};
    int attempts = 4;                        // total tries for transient failures
    std::chrono::milliseconds backoff{500};  // first pause; doubles each time
};

// What the client intends: tokens are asked for with this scope (login asks for none).
enum class Access { pull, push, login };

struct FetchedManifest {
    std::string body;
    std::string media_type;
    Digest digest;  // sha256 of body; equal to the requested digest when fetched by digest
};

class RegistryClient {
public:
    // `credentials` nullopt: anonymous (a registry that asks for credentials is then an error
    // saying where to put them).
    RegistryClient(ImageReference ref, Access access, std::optional<Credentials> credentials,
                   ClientOptions options = {});
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    const ImageReference& reference() const noexcept;

    // HEAD of a blob: its size when the registry has it, nullopt when it does not.
    std::optional<std::uint64_t> blob_size(const Digest& digest);
    // Uploads `size` bytes read from `fd` (from offset 0) as the blob `digest` (POST, then one
    // PUT with the whole body; the registry checks the digest).
    void upload_blob(const Digest& digest, int fd, std::uint64_t size, ProgressSink& progress,
                     const std::string& what);
    // Downloads the blob into `fd` (truncated first), hashing while writing; an interrupted
    // transfer resumes with a Range request. Error(remote) mentioning "integrity" when the bytes
    // do not hash to `digest` or their size is not `size`.
    // `resume`: bytes already in `fd` (from an earlier, interrupted run) are kept, hashed, and
    // the transfer continues after them.
    void download_blob(const Digest& digest, std::uint64_t size, int fd, ProgressSink& progress,
                       const std::string& what, bool resume = false);
    // A small blob (an image config) into memory, verified; at most `limit` bytes.
    std::string fetch_blob(const Digest& digest, std::uint64_t limit);

    // The manifest the reference names (by tag or digest), verified against the digest asked
    // for, or against the registry's Docker-Content-Digest header for a tag.
    FetchedManifest get_manifest();
    // The manifest `digest` of the same repository (an index entry), verified against it.
    FetchedManifest get_manifest(const Digest& digest);
    // PUTs the manifest under the reference's tag; returns the digest the registry reports (or
    // the body's digest when it reports none).
    Digest put_manifest(const std::string& body, const std::string& media_type);

    // GET /v2/ of the registry, with the credentials once it asks for them (as `podman login`
    // checks a login): true when it asked and accepted them, false when it answered an anonymous
    // request (nothing could be checked). Error(remote) when it refused them.
    bool check_login();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace karapace::remote
