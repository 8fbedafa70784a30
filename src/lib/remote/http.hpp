// One HTTP exchange with a registry through libcurl, with the body streamed from memory or a
// file and the answer streamed to memory or a file (hashed while written). No retries and no
// authentication here: registry.cpp decides what an answer means. Internal to the remote layer.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::remote::detail {

struct HttpRequest {
    std::string method = "GET";  // GET, HEAD, PUT, POST
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    // Request body: from memory, or `body_size` bytes of `body_fd` read from offset 0.
    const std::string* body_text = nullptr;
    int body_fd = -1;
    std::uint64_t body_size = 0;
    // When set, the body must hash to this: it is hashed as libcurl takes it, and the transfer
    // is stopped before its last bytes leave if it does not (HttpResponse::body_mismatch).
    const Digest* body_digest = nullptr;
    // Successful (2xx) answer body: into memory, or appended to `out_fd` and fed to `out_hash`;
    // either way at most `out_cap` bytes in all (0: no limit). Other answers' bodies are kept in
    // HttpResponse::error_body.
    std::string* out_text = nullptr;
    std::uint64_t out_cap = 0;
    int out_fd = -1;
    Sha256* out_hash = nullptr;
    std::uint64_t out_offset = 0;  // bytes already in out_fd (a Range request resumes there)
    bool follow_redirects = true;
    ProgressSink* progress = nullptr;  // advance(out_offset + transferred)
    std::chrono::seconds connect_timeout{15};
    long low_speed_bytes = 1024;
    std::chrono::seconds low_speed_time{60};
};

struct HttpResponse {
    CURLcode code = CURLE_OK;
    long status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased; of the last response
    std::string error_body;                      // first 64 KiB of a non-2xx answer's body
    std::string message;                         // libcurl's error text when code != CURLE_OK
    std::uint64_t written = 0;                   // body bytes written to out_fd / out_text
    bool range_ignored = false;                  // a Range request was answered with 200
    bool too_big = false;                        // the answer exceeded out_cap
    bool cancelled = false;
    bool body_mismatch = false;  // the body did not hash to body_digest; it was not all sent
    int io_errno = 0;            // a read of body_fd or a write to out_fd failed

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
    bool ok() const { return code == CURLE_OK && status >= 200 && status < 300; }
};

HttpResponse perform(const HttpRequest& request);

// Connection problems, timeouts, 408, 429 and 5xx: worth another try.
bool transient(const HttpResponse& r);

// "MANIFEST_UNKNOWN: manifest unknown" from a distribution error body
// ({"errors":[{"code","message"}]}); empty when the body is not one.
std::string registry_error_text(const std::string& body);

// Percent-encoding for query parameters.
std::string url_escape(const std::string& text);

}  // namespace karapace::remote::detail
