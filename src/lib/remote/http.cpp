#include "remote/http.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <cerrno>

#include "karapace/util/log.hpp"
#include "karapace/util/text.hpp"
#include "util/curl_lib.hpp"

namespace karapace::remote::detail {

namespace {

constexpr std::size_t error_body_cap = 64 * 1024;

struct Transfer {
    const HttpRequest* req = nullptr;
    HttpResponse* resp = nullptr;
    CURL* curl = nullptr;
    std::uint64_t upload_pos = 0;
    Sha256 body_hash;  // of body bytes [0, upload_pos) when body_digest is set
    bool first_chunk = true;
    bool to_error_body = false;
};

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
    return s.substr(i);
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const size_t n = size * count;
    std::string line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
        t.resp->headers.clear();  // a new response (after a redirect or a 100 Continue)
        return n;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        auto name = ascii_lower(trim(line.substr(0, colon)));
        auto value = trim(line.substr(colon + 1));
        auto& slot = t.resp->headers[name];
        // Repeated headers (several WWW-Authenticate lines) are joined as HTTP allows.
        slot = slot.empty() ? value : slot + ", " + value;
    }
    return n;
}

bool write_fd(Transfer& t, const char* data, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t w = ::write(t.req->out_fd, data + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            t.resp->io_errno = errno;
            return false;
        }
        done += static_cast<size_t>(w);
    }
    return true;
}

size_t on_data(char* data, size_t size, size_t count, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const size_t n = size * count;
    auto& r = *t.resp;
    if (t.first_chunk) {
        t.first_chunk = false;
        long code = 0;
        curl::api().easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &code);
        t.to_error_body = code < 200 || code >= 300;
        if (!t.to_error_body && t.req->out_offset > 0 && code == 200) {
            // The Range request was ignored: the whole body comes again.
            r.range_ignored = true;
            if (t.req->out_fd >= 0 &&
                (::ftruncate(t.req->out_fd, 0) != 0 || ::lseek(t.req->out_fd, 0, SEEK_SET) != 0)) {
                r.io_errno = errno;
                return 0;
            }
            if (t.req->out_hash) *t.req->out_hash = Sha256();
        }
    }
    if (t.to_error_body) {
        if (r.error_body.size() < error_body_cap)
            r.error_body.append(data, std::min(n, error_body_cap - r.error_body.size()));
        return n;
    }
    const std::uint64_t before = r.range_ignored ? 0 : t.req->out_offset;
    if (t.req->out_cap != 0 && before + r.written + n > t.req->out_cap) {
        r.too_big = true;
        return 0;
    }
    if (t.req->out_text) {
        t.req->out_text->append(data, n);
    } else if (t.req->out_fd >= 0) {
        if (!write_fd(t, data, n)) return 0;
        if (t.req->out_hash) t.req->out_hash->update(data, n);
    }
    r.written += n;
    return n;
}

// Hands `n` more body bytes (in `buf`) to libcurl, or refuses them: with body_digest set, the
// chunk that completes the body is only handed over when the whole body hashes to it.
size_t pass_body(Transfer& t, const char* buf, std::uint64_t n, std::uint64_t total) {
    t.upload_pos += n;
    if (t.req->body_digest == nullptr) return static_cast<size_t>(n);
    t.body_hash.update(buf, static_cast<std::size_t>(n));
    if (t.upload_pos == total && t.body_hash.finish() != *t.req->body_digest) {
        t.resp->body_mismatch = true;
        return CURL_READFUNC_ABORT;
    }
    return static_cast<size_t>(n);
}

size_t on_read(char* buf, size_t size, size_t count, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const std::uint64_t total = t.req->body_text ? t.req->body_text->size() : t.req->body_size;
    if (t.upload_pos >= total) return 0;
    size_t want = std::min<std::uint64_t>(size * count, total - t.upload_pos);
    if (t.req->body_text) {
        std::copy_n(t.req->body_text->data() + t.upload_pos, want, buf);
        return pass_body(t, buf, want, total);
    }
    while (true) {
        ssize_t r = ::pread(t.req->body_fd, buf, want, static_cast<off_t>(t.upload_pos));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            t.resp->io_errno = r < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        return pass_body(t, buf, static_cast<std::uint64_t>(r), total);
    }
}

int on_seek(void* user, curl_off_t offset, int origin) {
    auto& t = *static_cast<Transfer*>(user);
    if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
    // libcurl rewinds to send the body again (a redirect, an authentication round); the hash
    // can only follow it from the start.
    if (t.req->body_digest != nullptr && offset != 0) return CURL_SEEKFUNC_CANTSEEK;
    t.upload_pos = static_cast<std::uint64_t>(offset);
    if (t.req->body_digest != nullptr) t.body_hash = Sha256();
    return CURL_SEEKFUNC_OK;
}

int on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
    auto& t = *static_cast<Transfer*>(user);
    if (t.req->progress == nullptr) return 0;
    auto now = static_cast<std::uint64_t>(std::max(dlnow, ulnow));
    t.req->progress->advance(t.req->out_offset + now);
    if (t.req->progress->cancelled()) {
        t.resp->cancelled = true;
        return 1;
    }
    return 0;
}

}  // namespace

HttpResponse perform(const HttpRequest& req) {
    const auto& api = curl::api();
    curl::Easy easy = curl::new_easy();
    CURL* c = easy.get();
    HttpResponse resp;
    Transfer t;
    t.req = &req;
    t.resp = &resp;
    t.curl = c;
    char errbuf[CURL_ERROR_SIZE] = {};

    curl::HeaderList headers;
    for (const auto& h : req.headers)
        headers.add(h);
    if (req.out_offset > 0) headers.add("Range: bytes=" + std::to_string(req.out_offset) + "-");

    api.easy_setopt(c, CURLOPT_URL, req.url.c_str());
    api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    // Blob downloads are often redirected to a storage service. libcurl does not send our own
    // Authorization header to another host, so the registry's token stays with the registry.
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
    api.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_USERAGENT, curl::user_agent());
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(req.connect_timeout.count()));
    api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, req.low_speed_bytes);
    api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.low_speed_time.count()));
    api.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(c, CURLOPT_HEADERDATA, &t);
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &t);
    api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    api.easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    const bool has_body = req.body_text != nullptr || req.body_fd >= 0;
    const auto body_size =
        static_cast<curl_off_t>(req.body_text ? req.body_text->size() : req.body_size);
    if (req.method == "HEAD") {
        api.easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT") {
        api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
        api.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, has_body ? body_size : curl_off_t{0});
    } else if (req.method == "POST") {
        api.easy_setopt(c, CURLOPT_POST, 1L);
        api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, has_body ? body_size : curl_off_t{0});
    } else if (req.method != "GET") {
        api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (req.method == "PUT" || req.method == "POST") {
        api.easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        api.easy_setopt(c, CURLOPT_READDATA, &t);
        api.easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        api.easy_setopt(c, CURLOPT_SEEKDATA, &t);
    }

    resp.code = api.easy_perform(c);
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    if (resp.code != CURLE_OK) {
        resp.message = errbuf[0] ? std::string(errbuf) : std::string(api.easy_strerror(resp.code));
        while (!resp.message.empty() && resp.message.back() == '\n')
            resp.message.pop_back();
    }
    return resp;
}

bool transient(const HttpResponse& r) {
    if (r.cancelled || r.io_errno != 0 || r.too_big || r.body_mismatch) return false;
    return curl::transient(r.code, r.code == CURLE_OK ? r.status : 0);
}

std::string registry_error_text(const std::string& body) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(body, ec);
    if (ec || !doc.is_object()) return {};
    auto* errors = doc.as_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array()) return {};
    std::string out;
    for (const auto& e : errors->as_array()) {
        if (!e.is_object()) continue;
        std::string part;
        if (auto* code = e.as_object().if_contains("code"); code && code->is_string())
            part = std::string(code->as_string());
        if (auto* msg = e.as_object().if_contains("message"); msg && msg->is_string())
            part += (part.empty() ? "" : ": ") + std::string(msg->as_string());
        if (!part.empty()) out += (out.empty() ? "" : "; ") + part;
    }
    return out;
}

std::string url_escape(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace karapace::remote::detail
