#include "karapace/image/download.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "util/curl_lib.hpp"

namespace karapace::image {

namespace {

const curl::Api& curl_lib() { return curl::api(); }

// Where the bytes of one attempt go: a file (resumable) or memory.
struct Sink {
    int fd = -1;
    std::string* memory = nullptr;
    Sha256* hasher = nullptr;
    std::uint64_t offset = 0;   // bytes already present before this attempt (resume)
    std::uint64_t written = 0;  // bytes present now
    std::uint64_t cap = 0;
    std::uint64_t total = 0;  // for progress; 0 unknown
    CURL* curl = nullptr;
    ProgressSink* progress = nullptr;
    bool first_chunk = true;
    bool restarted = false;  // the server ignored our Range request and sent everything
    bool too_big = false;
    bool io_failed = false;
    int io_errno = 0;
};

size_t on_data(char* data, size_t size, size_t count, void* user) {
    auto& s = *static_cast<Sink*>(user);
    const size_t n = size * count;
    if (s.first_chunk) {
        s.first_chunk = false;
        long code = 0;
        curl_lib().easy_getinfo(s.curl, CURLINFO_RESPONSE_CODE, &code);
        if (s.offset > 0 && code == 200) {
            // Range ignored: start over from byte 0. (libcurl usually refuses such an answer
            // itself with CURLE_RANGE_ERROR, handled in with_retries; this covers the rest.)
            if (::ftruncate(s.fd, 0) != 0 || ::lseek(s.fd, 0, SEEK_SET) != 0) {
                s.io_failed = true;
                s.io_errno = errno;
                return 0;
            }
            *s.hasher = Sha256();
            s.offset = 0;
            s.written = 0;
            s.restarted = true;
        }
    }
    if (s.cap && s.written + n > s.cap) {
        s.too_big = true;
        return 0;
    }
    if (s.hasher) s.hasher->update(data, n);
    if (s.memory) {
        s.memory->append(data, n);
    } else {
        size_t done = 0;
        while (done < n) {
            ssize_t w = ::write(s.fd, data + done, n - done);
            if (w < 0) {
                if (errno == EINTR) continue;
                s.io_failed = true;
                s.io_errno = errno;
                return 0;
            }
            done += static_cast<size_t>(w);
        }
    }
    s.written += n;
    return n;
}

int on_progress(void* user, curl_off_t expected, curl_off_t now, curl_off_t, curl_off_t) {
    auto& s = *static_cast<Sink*>(user);
    if (s.progress) {
        // Without a size from the index, the server's Content-Length gives the bar its end.
        if (s.total == 0 && expected > 0) {
            s.total = s.offset + static_cast<std::uint64_t>(expected);
            s.progress->resize(s.total);
        }
        s.progress->advance(s.offset + static_cast<std::uint64_t>(now));
        if (s.progress->cancelled()) return 1;
    }
    return 0;
}

struct Attempt {
    CURLcode code = CURLE_OK;
    long http = 0;
    std::string message;
};

Attempt perform(const std::string& url, Sink& sink, const DownloadOptions& opts) {
    curl::Easy curl = curl::new_easy();
    CURL* c = curl.get();
    sink.curl = c;
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_lib().easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_lib().easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_lib().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_lib().easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_lib().easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_lib().easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_lib().easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_lib().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_lib().easy_setopt(c, CURLOPT_USERAGENT, curl::user_agent());
    curl_lib().easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                           static_cast<long>(opts.connect_timeout.count()));
    curl_lib().easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, opts.low_speed_bytes);
    curl_lib().easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                           static_cast<long>(opts.low_speed_time.count()));
    if (sink.cap > sink.offset)
        curl_lib().easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                               static_cast<curl_off_t>(sink.cap - sink.offset));
    if (sink.offset > 0)
        curl_lib().easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(sink.offset));
    curl_lib().easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_lib().easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_lib().easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_lib().easy_setopt(c, CURLOPT_XFERINFODATA, &sink);
    curl_lib().easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    Attempt a;
    a.code = curl_lib().easy_perform(c);
    curl_lib().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.http);
    a.message = errbuf[0] ? std::string(errbuf) : std::string(curl_lib().easy_strerror(a.code));
    while (!a.message.empty() && a.message.back() == '\n')
        a.message.pop_back();
    return a;
}

bool transient(const Attempt& a) { return curl::transient(a.code, a.http); }

std::string subject(const std::string& what, const std::string& url) {
    return what.empty() ? url : what;
}

std::string server_of(const std::string& server, const std::string& url) {
    if (!server.empty()) return server;
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    auto slash = url.find('/', scheme + 3);
    return url.substr(0, slash);
}

[[noreturn]] void fail(const Attempt& a, const std::string& url, const std::string& what,
                       const std::string& server, int tries) {
    const std::string where = server_of(server, url);
    if (a.code == CURLE_HTTP_RETURNED_ERROR) {
        if (a.http == 404 || a.http == 410)
            throw Error(Errc::image,
                        log::cat(subject(what, url), ": no such file on ", where, " (HTTP ", a.http,
                                 " for ", url, ")"),
                        "check the reference; image servers prune old builds, so an old pinned "
                        "URL may be gone (run `karapace pin` for a current one)");
        throw Error(Errc::image,
                    log::cat(subject(what, url), ": ", where, " answered HTTP ", a.http, " for ",
                             url, tries > 1 ? log::cat(" (after ", tries, " attempts)") : ""),
                    "try again later, or use a mirror (KARAPACE_IMAGE_SERVER)");
    }
    const bool unreachable =
        a.code == CURLE_COULDNT_CONNECT || a.code == CURLE_COULDNT_RESOLVE_HOST ||
        a.code == CURLE_COULDNT_RESOLVE_PROXY || a.code == CURLE_OPERATION_TIMEDOUT;
    throw Error(
        Errc::image,
        log::cat(subject(what, url), ": ", unreachable ? "cannot reach " : "download failed from ",
                 where, " (", a.message, ") while fetching ", url,
                 tries > 1 ? log::cat(" after ", tries, " attempts") : ""),
        unreachable ? "check the network connection or the image server address "
                      "(KARAPACE_IMAGE_SERVER, [images] server in config.toml); cached "
                      "images work with --offline"
                    : "run the command again: the download resumes where it stopped");
}

// Runs attempts until one succeeds; `prepare` resets the sink before each attempt (and may
// decide the transfer is already complete by returning false).
template <typename Prepare>
void with_retries(const std::string& url, Sink& sink, const DownloadOptions& opts,
                  const std::string& what, const std::string& server, Prepare prepare,
                  bool& restarted) {
    auto pause = opts.backoff;
    const int attempts = std::max(1, opts.attempts);
    for (int attempt = 1;; ++attempt) {
        if (!prepare()) return;
        Attempt a = perform(url, sink, opts);
        if (a.code == CURLE_OK) return;
        if (sink.progress && sink.progress->cancelled())
            throw Error(Errc::cancelled, log::cat("download of ", url, " cancelled"));
        if (sink.io_failed)
            throw_errno(Errc::image, log::cat("cannot write the download of ", url), sink.io_errno);
        if (sink.too_big || a.code == CURLE_FILESIZE_EXCEEDED)
            throw Error(Errc::image,
                        log::cat(subject(what, url), ": ", url, " is larger than the limit of ",
                                 sink.cap, " bytes"),
                        "a base image tarball should be a few hundred MB; check the URL");
        // A resumed request past the end (416), or a server without byte ranges (libcurl refuses
        // a 200 answer to a resume): the partial file is of no use, start over.
        if (sink.offset > 0 && (a.code == CURLE_RANGE_ERROR ||
                                (a.code == CURLE_HTTP_RETURNED_ERROR && a.http == 416))) {
            restarted = true;
            if (sink.fd >= 0 && ::ftruncate(sink.fd, 0) != 0)
                throw_errno(Errc::image, "cannot truncate the partial download of " + url);
            if (attempt < attempts) continue;
        }
        if (!transient(a) || attempt >= attempts) fail(a, url, what, server, attempt);
        log::debug("download of ", url, " failed (", a.message, "), retrying in ", pause.count(),
                   " ms");
        std::this_thread::sleep_for(pause);
        pause *= 2;
    }
}

void hash_existing(int fd, std::uint64_t size, Sha256& hasher, const std::string& path) {
    std::vector<char> buf(1 << 20);
    std::uint64_t left = size;
    off_t pos = 0;
    while (left > 0) {
        ssize_t r = ::pread(fd, buf.data(), std::min<std::uint64_t>(left, buf.size()), pos);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) throw_errno(Errc::image, "cannot read " + path);
        hasher.update(buf.data(), static_cast<std::size_t>(r));
        left -= static_cast<std::uint64_t>(r);
        pos += r;
    }
}

void verify(const DownloadRequest& req, const std::string& partial, const Digest& got,
            std::uint64_t size) {
    if (req.expected_size && *req.expected_size != size) {
        ::unlink(partial.c_str());
        throw Error(Errc::image,
                    log::cat(subject(req.what, req.url), ": ", req.url, " has ", size,
                             " bytes, expected ", *req.expected_size, "; nothing was kept"),
                    "the server changed the file or the index is stale; try again later");
    }
    if (req.expected_sha256 && *req.expected_sha256 != got) {
        ::unlink(partial.c_str());
        throw Error(Errc::image,
                    log::cat(subject(req.what, req.url), ": sha256 mismatch for ", req.url,
                             ": expected ", req.expected_sha256->str(), ", got ", got.str(),
                             "; nothing was extracted or cached"),
                    "the file on the server is not the one the reference pins; if the source is "
                    "trusted and changed on purpose, pin it again (karapace pin)");
    }
}

void commit(const std::string& partial, const std::string& dest) {
    if (::rename(partial.c_str(), dest.c_str()) != 0)
        throw_errno(Errc::image, "cannot move " + partial + " to " + dest);
}

DownloadResult copy_file_url(const DownloadRequest& req, const std::string& path,
                             const DownloadOptions& opts, ProgressSink& progress) {
    UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) throw_errno(Errc::image, log::cat(subject(req.what, req.url), ": cannot open ", path));
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) throw_errno(Errc::image, "cannot stat " + path);
    if (!S_ISREG(st.st_mode))
        throw Error(Errc::image, log::cat(req.url, ": ", path, " is not a regular file"));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (opts.max_bytes && size > opts.max_bytes)
        throw Error(Errc::image,
                    log::cat(req.url, " is larger than the limit of ", opts.max_bytes, " bytes"));
    const std::string partial = req.dest + ".partial";
    UniqueFd out(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out) throw_errno(Errc::image, "cannot create " + partial);
    progress.step("copying " + subject(req.what, req.url), size, ProgressUnit::bytes);
    Sha256 hasher;
    std::vector<char> buf(1 << 20);
    std::uint64_t done = 0;
    while (true) {
        ssize_t r = ::read(in.get(), buf.data(), buf.size());
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw_errno(Errc::image, "cannot read " + path);
        if (r == 0) break;
        hasher.update(buf.data(), static_cast<std::size_t>(r));
        write_all(out.get(), std::string_view(buf.data(), static_cast<std::size_t>(r)), partial);
        done += static_cast<std::uint64_t>(r);
        progress.advance(done);
        if (progress.cancelled()) {
            ::unlink(partial.c_str());
            throw Error(Errc::cancelled, "copy of " + path + " cancelled");
        }
    }
    Digest got = hasher.finish();
    try {
        verify(req, partial, got, done);
    } catch (...) {
        progress.finish(false);
        throw;
    }
    commit(partial, req.dest);
    progress.finish(true);
    return {got, done, false};
}

}  // namespace

std::optional<std::string> file_url_path(const std::string& url) {
    if (url.rfind("file://", 0) != 0) return std::nullopt;
    std::string raw = url.substr(7);
    std::string path;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
            path += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            path += raw[i];
        }
    }
    return path;
}

DownloadResult download(const DownloadRequest& req, const DownloadOptions& opts,
                        ProgressSink& progress) {
    if (auto path = file_url_path(req.url)) return copy_file_url(req, *path, opts, progress);

    const std::string partial = req.dest + ".partial";
    UniqueFd fd(::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw_errno(Errc::image, "cannot create " + partial);
    Sha256 hasher;
    Sink sink;
    sink.fd = fd.get();
    sink.hasher = &hasher;
    sink.cap = opts.max_bytes;
    if (req.expected_size && (!sink.cap || *req.expected_size < sink.cap))
        sink.cap = *req.expected_size;
    sink.progress = &progress;
    sink.total = req.expected_size.value_or(0);
    bool resumed = false;
    bool restarted = false;
    progress.step("downloading " + subject(req.what, req.url), req.expected_size.value_or(0),
                  ProgressUnit::bytes);
    auto prepare = [&] {
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw_errno(Errc::image, "cannot stat " + partial);
        auto have = static_cast<std::uint64_t>(st.st_size);
        if (sink.cap && have > sink.cap) {
            if (::ftruncate(fd.get(), 0) != 0)
                throw_errno(Errc::image, "cannot truncate " + partial);
            have = 0;
        }
        hasher = Sha256();
        hash_existing(fd.get(), have, hasher, partial);
        if (::lseek(fd.get(), static_cast<off_t>(have), SEEK_SET) < 0)
            throw_errno(Errc::image, "cannot seek in " + partial);
        sink.offset = have;
        sink.written = have;
        sink.first_chunk = true;
        if (have > 0) {
            resumed = true;
            log::debug("resuming ", req.url, " at byte ", have);
        }
        // Everything is already here (the earlier run died between the transfer and the rename).
        if (req.expected_size && have == *req.expected_size) return false;
        return true;
    };
    try {
        with_retries(req.url, sink, opts, req.what, req.server, prepare, restarted);
    } catch (...) {
        progress.finish(false);
        throw;
    }
    Digest got = hasher.finish();
    try {
        verify(req, partial, got, sink.written);
    } catch (...) {
        progress.finish(false);
        throw;
    }
    if (::fsync(fd.get()) != 0) throw_errno(Errc::image, "cannot sync " + partial);
    commit(partial, req.dest);
    progress.finish(true);
    return {got, sink.written, resumed && !sink.restarted && !restarted};
}

std::string fetch_text(const std::string& url, const DownloadOptions& opts, std::uint64_t limit,
                       const std::string& what, const std::string& server) {
    if (auto path = file_url_path(url)) {
        try {
            return read_file_limited(*path, limit);
        } catch (const Error& e) {
            throw Error(Errc::image, log::cat(what, ": cannot read ", url, ": ", e.what()),
                        "check the image server address (KARAPACE_IMAGE_SERVER)");
        }
    }
    std::string body;
    Sink sink;
    sink.memory = &body;
    sink.cap = limit;
    bool restarted = false;
    with_retries(
        url, sink, opts, what, server,
        [&] {
            body.clear();
            sink.written = 0;
            sink.first_chunk = true;
            return true;
        },
        restarted);
    return body;
}

}  // namespace karapace::image
