#include "karapace/remote/registry.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <thread>

#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "remote/http.hpp"

namespace karapace::remote {

using detail::HttpRequest;
using detail::HttpResponse;

namespace {

constexpr std::uint64_t manifest_limit = 4 * 1024 * 1024;

const char* manifest_accept =
    "Accept: application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

std::string media_type_of(const std::string& content_type) {
    auto semi = content_type.find(';');
    std::string out = content_type.substr(0, semi);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

bool unreachable(CURLcode code) {
    return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
           code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_OPERATION_TIMEDOUT;
}

bool tls_problem(CURLcode code) {
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION ||
           code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE;
}

// "1 byte", "2 bytes".
std::string byte_count(std::uint64_t n) {
    return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

std::string with_detail(const HttpResponse& r) {
    auto text = detail::registry_error_text(r.error_body);
    return "HTTP " + std::to_string(r.status) + (text.empty() ? "" : ": " + text);
}

}  // namespace

struct RegistryClient::Impl {
    ImageReference ref;
    Access access;
    std::optional<Credentials> creds;
    ClientOptions opts;
    std::string authorization;  // the Authorization header value in use, if any
    bool bearer = false;

    std::string repo() const { return ref.repository.empty() ? ref.host : ref.repository_path(); }
    std::string action() const {
        switch (access) {
        case Access::push: return "push to";
        case Access::login: return "log in to";
        default: return "pull from";
        }
    }

    void prepare(HttpRequest& req) const {
        req.connect_timeout = opts.connect_timeout;
        req.low_speed_bytes = opts.low_speed_bytes;
        req.low_speed_time = opts.low_speed_time;
        if (!authorization.empty()) req.headers.push_back("Authorization: " + authorization);
    }

    [[noreturn]] void fail(const HttpResponse& r, const std::string& what, int tries) const {
        const std::string after =
            tries > 1 ? " (after " + std::to_string(tries) + " attempts)" : std::string();
        if (r.cancelled) throw Error(Errc::cancelled, what + " on " + ref.host + " cancelled");
        if (r.io_errno != 0)
            throw_errno(Errc::remote, what + ": cannot read or write a local file", r.io_errno);
        if (r.code != CURLE_OK) {
            if (unreachable(r.code))
                throw Error(Errc::remote,
                            "cannot reach the registry " + ref.scheme + "://" + ref.host + " (" +
                                r.message + ") while " + what + after,
                            access == Access::login
                                ? "check that the registry runs and the address is right"
                                : "check that the registry runs and the address is right "
                                  "(--remote, [remote] url in ~/.config/karapace/config.toml)");
            if (tls_problem(r.code))
                throw Error(Errc::remote,
                            "TLS with the registry " + ref.host + " failed (" + r.message +
                                ") while " + what,
                            "a registry without TLS needs an explicit http://" + ref.host +
                                "; otherwise install its CA certificate on this machine");
            throw Error(Errc::remote,
                        "transfer with the registry " + ref.host + " failed (" + r.message +
                            ") while " + what + after,
                        "run the command again; transfers resume where they stopped");
        }
        if (r.status == 401) credentials_refused(r, what);
        if (r.status == 403)
            throw Error(
                Errc::remote,
                "the registry " + ref.host + " denied access to " + repo() + " (" + with_detail(r) +
                    ") while " + what,
                "check that " +
                    (creds ? "the account '" + creds->username + "' (from " + creds->source + ")"
                           : std::string("an anonymous user")) +
                    " may " + action() + " " + repo());
        if (r.status == 404)
            throw Error(Errc::remote,
                        "the registry " + ref.host + " has no " + what + " in " + repo() + " (" +
                            with_detail(r) + ")",
                        "check the repository name and the tag");
        if (r.status >= 500)
            throw Error(Errc::remote,
                        "the registry " + ref.host + " failed with " + with_detail(r) + " while " +
                            what + after,
                        "the registry has a problem on its side; try again later");
        throw Error(Errc::remote,
                    "the registry " + ref.host + " refused " + what + " in " + repo() + " (" +
                        with_detail(r) + ")",
                    "check the reference; a registry that does not accept OCI image manifests "
                    "cannot store environments");
    }

    [[noreturn]] void credentials_refused(const HttpResponse& r, const std::string& what) const {
        if (!creds) {
            std::string file;
            try {
                file = " (it fills in " + login_auth_file() + ")";
            } catch (const Error&) {}
            throw Error(Errc::remote,
                        "the registry " + ref.host + " wants credentials to " + action() + " " +
                            repo() + " (" + with_detail(r) + ") while " + what,
                        "log in with `karapace login " + ref.host + "`" + file +
                            " (or podman login, docker login), or add [remote.credentials.\"" +
                            ref.host +
                            "\"] username and password to ~/.config/karapace/config.toml");
        }
        throw Error(Errc::remote,
                    "the registry " + ref.host + " refused the credentials of '" + creds->username +
                        "' (from " + creds->source + ") to " + action() + " " + repo() + " (" +
                        with_detail(r) + ")",
                    access == Access::login
                        ? "check the user name and password"
                        : "check the user name and password in " + creds->source);
    }

    // Answers a 401: picks the challenge, gets a token or prepares Basic credentials. Throws
    // when it cannot do better than the request that was refused.
    void authenticate(const HttpResponse& r, const std::string& what) {
        auto challenges = parse_www_authenticate(r.header("www-authenticate"));
        const Challenge* chosen = nullptr;
        for (const auto& c : challenges)
            if (c.scheme == "bearer") chosen = &c;
        if (chosen == nullptr)
            for (const auto& c : challenges)
                if (c.scheme == "basic") chosen = &c;
        if (chosen == nullptr) credentials_refused(r, what);
        if (chosen->scheme == "basic") {
            if (!creds || !authorization.empty()) credentials_refused(r, what);
            authorization = basic_authorization(*creds);
            return;
        }
        // A second 401 with a token in hand: the token service gave less than was asked for.
        if (bearer) credentials_refused(r, what);
        fetch_token(*chosen, what);
    }

    void fetch_token(const Challenge& c, const std::string& what) {
        auto realm = c.param("realm");
        if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0)
            throw Error(Errc::remote,
                        "the registry " + ref.host + " sent a token realm that is not a URL: '" +
                            realm + "'",
                        "the registry is misconfigured; tell its administrators");
        std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
        if (!c.param("service").empty())
            url += "service=" + detail::url_escape(c.param("service")) + "&";
        // A login asks for no repository: the token service still checks the credentials.
        if (access != Access::login)
            url += "scope=" + detail::url_escape("repository:" + ref.repository + ":" +
                                                 (access == Access::push ? "pull,push" : "pull"));
        if (url.back() == '&' || url.back() == '?') url.pop_back();
        std::string body;
        HttpResponse resp;
        auto pause = opts.backoff;
        int tries = 0;
        for (int attempt = 1;; ++attempt) {
            tries = attempt;
            body.clear();
            HttpRequest req;
            req.url = url;
            req.out_text = &body;
            req.out_cap = 1024 * 1024;
            req.connect_timeout = opts.connect_timeout;
            req.low_speed_bytes = opts.low_speed_bytes;
            req.low_speed_time = opts.low_speed_time;
            if (creds) req.headers.push_back("Authorization: " + basic_authorization(*creds));
            resp = detail::perform(req);
            if (resp.ok() || !detail::transient(resp) || attempt >= opts.attempts) break;
            std::this_thread::sleep_for(pause);
            pause *= 2;
        }
        if (resp.status == 401 || resp.status == 403) credentials_refused(resp, what);
        if (!resp.ok()) fail(resp, "getting an access token from " + realm, tries);
        auto token = token_from_response(body);
        if (!token)
            throw Error(Errc::remote, "the token service " + realm + " answered without a token",
                        "the registry is misconfigured; tell its administrators");
        authorization = "Bearer " + *token;
        bearer = true;
    }

    // One request with authentication; transient failures are retried when `retry` is set (the
    // caller resets what the request writes through `reset`).
    HttpResponse exchange(const HttpRequest& base, bool retry, const std::string& what,
                          int* tries_out = nullptr, const std::function<void()>& reset = {}) {
        auto pause = opts.backoff;
        bool authenticated_now = false;
        for (int attempt = 1;;) {
            if (reset) reset();
            HttpRequest req = base;
            prepare(req);
            auto resp = detail::perform(req);
            if (tries_out) *tries_out = attempt;
            if (resp.code == CURLE_OK && resp.status == 401 && !authenticated_now) {
                authenticate(resp, what);
                authenticated_now = true;
                continue;
            }
            if (!retry || !detail::transient(resp) || attempt >= opts.attempts) return resp;
            log::debug(what, " on ", ref.host, " failed (",
                       resp.code != CURLE_OK ? resp.message : "HTTP " + std::to_string(resp.status),
                       "), retrying in ", pause.count(), " ms");
            std::this_thread::sleep_for(pause);
            pause *= 2;
            ++attempt;
        }
    }

    std::string absolute(const std::string& location) const {
        if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0)
            return location;
        if (!location.empty() && location.front() == '/')
            return ref.scheme + "://" + ref.host + location;
        return ref.base_url() + "/blobs/uploads/" + location;
    }

    // `received`: what the registry sent ("12 bytes hashing to sha256:…", "more than 3 bytes").
    [[noreturn]] void integrity(const std::string& what, const Digest& want,
                                const std::string& received, std::uint64_t want_size) const {
        throw Error(Errc::remote,
                    "integrity check failed for " + what + " " + want.str() + " from " + repo() +
                        ": the registry sent " + received + " (expected " + byte_count(want_size) +
                        "); nothing was imported",
                    "the registry's copy is damaged or was tampered with; push the environment "
                    "again from a good copy");
    }
    [[noreturn]] void integrity(const std::string& what, const Digest& want, const Digest& got,
                                std::uint64_t size, std::uint64_t want_size) const {
        integrity(what, want, byte_count(size) + " hashing to " + got.str(), want_size);
    }
};

RegistryClient::RegistryClient(ImageReference ref, Access access,
                               std::optional<Credentials> credentials, ClientOptions options)
    : impl_(std::make_unique<Impl>()) {
    impl_->ref = std::move(ref);
    impl_->access = access;
    impl_->creds = std::move(credentials);
    impl_->opts = options;
    if (impl_->opts.attempts < 1) impl_->opts.attempts = 1;
}

RegistryClient::~RegistryClient() = default;

const ImageReference& RegistryClient::reference() const noexcept { return impl_->ref; }

std::optional<std::uint64_t> RegistryClient::blob_size(const Digest& digest) {
    HttpRequest req;
    req.method = "HEAD";
    req.url = impl_->ref.base_url() + "/blobs/" + digest.str();
    int tries = 1;
    const std::string what = "checking for blob " + digest.str();
    auto resp = impl_->exchange(req, true, what, &tries);
    if (resp.code == CURLE_OK && resp.status == 404) return std::nullopt;
    if (!resp.ok()) impl_->fail(resp, what, tries);
    auto length = resp.header("content-length");
    try {
        return length.empty() ? 0 : std::stoull(length);
    } catch (const std::exception&) {
        return 0;
    }
}

void RegistryClient::upload_blob(const Digest& digest, int fd, std::uint64_t size,
                                 ProgressSink& progress, const std::string& what) {
    // The manifest announces `size` bytes hashing to `digest`: a local copy that differs (a file
    // changed after it was measured) must not become the registry's blob, nor a confusing
    // refusal from it. The size is checked now, the content while it is sent.
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(Errc::store, "cannot examine the local copy of " + what);
    if (static_cast<std::uint64_t>(st.st_size) != size)
        throw Error(Errc::store,
                    "integrity check failed for " + what +
                        " before sending it: the local copy is " +
                        byte_count(static_cast<std::uint64_t>(st.st_size)) +
                        ", the image announces " + byte_count(size) + "; nothing was sent",
                    "the store changed during the push; run `karapace verify-store`, then push "
                    "again");
    auto pause = impl_->opts.backoff;
    for (int attempt = 1;; ++attempt) {
        HttpRequest start;
        start.method = "POST";
        start.url = impl_->ref.base_url() + "/blobs/uploads/";
        int tries = 1;
        auto resp = impl_->exchange(start, true, "starting the upload of " + what, &tries);
        if (!resp.ok()) impl_->fail(resp, "starting the upload of " + what, tries);
        auto location = resp.header("location");
        if (location.empty())
            throw Error(Errc::remote,
                        "the registry " + impl_->ref.host +
                            " started an upload without saying where to send it (no Location)",
                        "the registry does not follow the OCI distribution API");
        auto url = impl_->absolute(location);
        url += (url.find('?') == std::string::npos ? "?" : "&");
        url += "digest=" + detail::url_escape(digest.str());

        HttpRequest put;
        put.method = "PUT";
        put.url = url;
        put.body_fd = fd;
        put.body_size = size;
        put.body_digest = &digest;
        put.headers = {"Content-Type: application/octet-stream"};
        put.progress = &progress;
        resp = impl_->exchange(put, false, "uploading " + what);
        if (resp.ok()) return;
        if (resp.body_mismatch)
            throw Error(Errc::store,
                        "integrity check failed for " + what +
                            " while sending it: the local copy does not hash to " + digest.str() +
                            "; the upload was stopped before its end, so the registry keeps "
                            "nothing of it",
                        "the store changed during the push; run `karapace verify-store`, then "
                        "push again");
        if (!detail::transient(resp) || attempt >= impl_->opts.attempts)
            impl_->fail(resp, "uploading " + what, attempt);
        log::debug("upload of ", what, " failed, starting it again in ", pause.count(), " ms");
        std::this_thread::sleep_for(pause);
        pause *= 2;
    }
}

void RegistryClient::download_blob(const Digest& digest, std::uint64_t size, int fd,
                                   ProgressSink& progress, const std::string& what, bool resume) {
    Sha256 hasher;
    std::uint64_t have = 0;
    struct stat st {};
    if (resume && ::fstat(fd, &st) == 0 && st.st_size > 0 &&
        static_cast<std::uint64_t>(st.st_size) < size && ::lseek(fd, 0, SEEK_SET) == 0) {
        std::string buf(std::size_t{256} * 1024, '\0');
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            hasher.update(buf.data(), static_cast<std::size_t>(n));
            have += static_cast<std::uint64_t>(n);
        }
        if (have != static_cast<std::uint64_t>(st.st_size)) {
            hasher = Sha256();
            have = 0;
        } else {
            log::debug("resuming the download of ", what, " after ", have, " bytes");
        }
    }
    if (have == 0 && (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0))
        throw_errno(Errc::store, "cannot prepare the download of " + what);
    auto pause = impl_->opts.backoff;
    const std::string doing = "downloading " + what;
    for (int attempt = 1;; ++attempt) {
        HttpRequest req;
        req.url = impl_->ref.base_url() + "/blobs/" + digest.str();
        req.out_fd = fd;
        req.out_hash = &hasher;
        req.out_offset = have;
        req.out_cap = size;
        req.progress = &progress;
        auto resp = impl_->exchange(req, false, doing);
        have = (resp.range_ignored ? 0 : have) + resp.written;
        if (resp.ok()) break;
        if (resp.too_big) impl_->integrity(what, digest, "more than " + byte_count(size), size);
        if (resp.code == CURLE_OK && resp.status == 416 && have > 0) {
            // Our partial copy is no use to the server: start over.
            if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0)
                throw_errno(Errc::store, "cannot restart the download of " + what);
            hasher = Sha256();
            have = 0;
            continue;
        }
        if (!detail::transient(resp) || attempt >= impl_->opts.attempts)
            impl_->fail(resp, doing, attempt);
        log::debug(doing, " stopped at byte ", have, ", resuming in ", pause.count(), " ms");
        std::this_thread::sleep_for(pause);
        pause *= 2;
    }
    auto got = hasher.finish();
    if (got != digest || have != size) impl_->integrity(what, digest, got, have, size);
}

std::string RegistryClient::fetch_blob(const Digest& digest, std::uint64_t limit) {
    std::string body;
    HttpRequest req;
    req.url = impl_->ref.base_url() + "/blobs/" + digest.str();
    req.out_text = &body;
    req.out_cap = limit;
    int tries = 1;
    const std::string what = "fetching blob " + digest.str();
    auto resp = impl_->exchange(req, true, what, &tries, [&] { body.clear(); });
    if (resp.too_big)
        throw Error(Errc::remote,
                    "blob " + digest.str() + " in " + impl_->repo() + " is larger than " +
                        byte_count(limit) + "; it was not read",
                    "an image configuration is a few KiB: this is not a container image");
    if (!resp.ok()) impl_->fail(resp, what, tries);
    auto got = sha256(body);
    if (got != digest) impl_->integrity("blob", digest, got, body.size(), body.size());
    return body;
}

FetchedManifest RegistryClient::get_manifest(const Digest& digest) {
    ImageReference saved = impl_->ref;
    impl_->ref.digest = digest;
    try {
        auto m = get_manifest();
        impl_->ref = std::move(saved);
        return m;
    } catch (...) {
        impl_->ref = std::move(saved);
        throw;
    }
}

FetchedManifest RegistryClient::get_manifest() {
    const auto& ref = impl_->ref;
    FetchedManifest m;
    HttpRequest req;
    req.url = ref.base_url() + "/manifests/" + ref.manifest_reference();
    req.headers = {manifest_accept};
    req.out_text = &m.body;
    req.out_cap = manifest_limit;
    int tries = 1;
    const std::string what = "fetching the manifest of " + ref.str();
    auto resp = impl_->exchange(req, true, what, &tries, [&] { m.body.clear(); });
    if (resp.too_big)
        throw Error(Errc::remote,
                    "the manifest of " + ref.str() + " is larger than 4 MiB; it was not read",
                    "image manifests are a few KiB: check the reference, or the registry serves "
                    "something else under it");
    if (resp.code == CURLE_OK && resp.status == 404) {
        auto text = detail::registry_error_text(resp.error_body);
        bool no_repo = text.find("NAME_UNKNOWN") != std::string::npos;
        if (no_repo)
            throw Error(Errc::remote,
                        "the registry " + ref.host + " has no repository " + ref.repository + " (" +
                            with_detail(resp) + ")",
                        "check the repository name; push creates it: karapace push <env> --tag " +
                            ref.str());
        throw Error(Errc::remote,
                    "the repository " + ref.repository_path() + " has no " +
                        (ref.digest ? "manifest " + ref.digest->str() : "tag '" + ref.tag + "'") +
                        " (" + with_detail(resp) + ")",
                    "check the tag; `karapace push <env> --tag " + ref.str() + "` publishes one");
    }
    if (!resp.ok()) impl_->fail(resp, what, tries);
    m.media_type = media_type_of(resp.header("content-type"));
    m.digest = sha256(m.body);
    std::optional<Digest> expected = ref.digest;
    if (!expected) {
        auto header = resp.header("docker-content-digest");
        if (header.rfind("sha256:", 0) == 0 && Digest::is_hex(header.substr(7)))
            expected = Digest::from_hex(header.substr(7));
    }
    if (expected && *expected != m.digest)
        impl_->integrity("manifest", *expected, m.digest, m.body.size(), m.body.size());
    return m;
}

Digest RegistryClient::put_manifest(const std::string& body, const std::string& media_type) {
    const auto& ref = impl_->ref;
    HttpRequest req;
    req.method = "PUT";
    req.url = ref.base_url() + "/manifests/" + ref.manifest_reference();
    req.body_text = &body;
    req.headers = {"Content-Type: " + media_type};
    int tries = 1;
    const std::string what = "publishing the manifest as " + ref.str();
    auto resp = impl_->exchange(req, true, what, &tries);
    if (!resp.ok()) impl_->fail(resp, what, tries);
    auto header = resp.header("docker-content-digest");
    if (header.rfind("sha256:", 0) == 0 && Digest::is_hex(header.substr(7)))
        return Digest::from_hex(header.substr(7));
    return sha256(body);
}

bool RegistryClient::check_login() {
    HttpRequest req;
    req.url = impl_->ref.scheme + "://" + impl_->ref.host + "/v2/";
    int tries = 1;
    const std::string what = "logging in to " + impl_->ref.host;
    auto resp = impl_->exchange(req, true, what, &tries);
    if (resp.code == CURLE_OK && resp.status == 404)
        throw Error(Errc::remote,
                    impl_->ref.host + " answered " + req.url +
                        " with HTTP 404: it does not serve the OCI distribution API there",
                    "check the registry address (host[:port])");
    if (!resp.ok()) impl_->fail(resp, what, tries);
    return !impl_->authorization.empty();
}

}  // namespace karapace::remote
