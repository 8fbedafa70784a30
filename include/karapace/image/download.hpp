// Verified downloads of image tarballs and index files over HTTP(S) (libcurl) and file://. A
// download goes to `<dest>.partial`, is hashed while it is written, resumes with a Range request
// after an interruption, retries transient failures with backoff, and becomes `<dest>` only once
// its sha256 (and size) match what was expected.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

struct DownloadOptions {
    std::chrono::seconds connect_timeout{30};
    // A transfer slower than `low_speed_bytes` per second for `low_speed_time` is aborted (and
    // retried, resuming where it stopped).
    long low_speed_bytes = 1024;
    std::chrono::seconds low_speed_time{60};
    int attempts = 4;                         // total tries for transient failures
    std::chrono::milliseconds backoff{1000};  // first pause between tries; doubles each time
    std::uint64_t max_bytes = std::uint64_t{16} << 30;  // refuse anything larger
};

struct DownloadRequest {
    std::string url;   // http://, https:// or file://
    std::string dest;  // final path; the transfer writes `dest + ".partial"`
    std::optional<Digest> expected_sha256;
    std::optional<std::uint64_t> expected_size;
    // For messages: what was asked for ("debian/bookworm") and from where (the image server).
    std::string what;
    std::string server;
};

struct DownloadResult {
    Digest digest;
    std::uint64_t size = 0;
    bool resumed = false;  // part of the file came from an earlier, interrupted transfer
};

// Downloads `req.url` to `req.dest`. On a sha256 or size mismatch the partial file is removed and
// Error(Errc::image) names the URL and both digests; other failures keep the partial file so the
// next attempt resumes. HTTP errors and unreachable hosts are Errc::image errors naming the URL
// and the server. Progress is reported as one bytes step.
DownloadResult download(const DownloadRequest& req, const DownloadOptions& opts,
                        ProgressSink& progress);

// Fetches a small document (an index, a catalogue) into memory, at most `limit` bytes.
std::string fetch_text(const std::string& url, const DownloadOptions& opts, std::uint64_t limit,
                       const std::string& what, const std::string& server);

// "file:///a%20b" -> "/a b"; nullopt when `url` is not a file URL.
std::optional<std::string> file_url_path(const std::string& url);

}  // namespace karapace::image
