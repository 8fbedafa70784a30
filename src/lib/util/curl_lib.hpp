// libcurl, loaded when the first transfer starts rather than with the program: with its
// dependencies (TLS, Kerberos, LDAP, HTTP/2, IDN...) it is some 25 shared libraries, about 5 ms of
// start-up that every command would pay while only downloads and registry transfers need them.
// Internal to libkarapace: image/ (downloads) and remote/ (OCI registries) share this one copy.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

namespace karapace::curl {

// The entry points karapace uses, resolved with dlsym.
struct Api {
    CURLcode (*global_init)(long flags);
    CURL* (*easy_init)();
    void (*easy_cleanup)(CURL* handle);
    CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
    CURLcode (*easy_perform)(CURL* handle);
    const char* (*easy_strerror)(CURLcode code);
    curl_slist* (*slist_append)(curl_slist* list, const char* text);
    void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl.so.4 on the first call (thread-safe); Error(unavailable) naming the missing
// library or symbol when it cannot.
const Api& api();

struct EasyFree {
    void operator()(CURL* c) const noexcept { api().easy_cleanup(c); }
};
using Easy = std::unique_ptr<CURL, EasyFree>;

// A fresh easy handle; Error(failed) when libcurl cannot make one.
Easy new_easy();

// A header list owned for the duration of one request.
class HeaderList {
public:
    HeaderList() = default;
    ~HeaderList();
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;

    void add(const std::string& line);
    curl_slist* get() const noexcept { return list_; }

private:
    curl_slist* list_ = nullptr;
};

// Whether a failed transfer is worth retrying: connection-level failures, timeouts, and the HTTP
// statuses 408, 429 and 5xx (`http_status` 0 when no response arrived).
bool transient(CURLcode code, long http_status) noexcept;

// The User-Agent karapace sends.
const char* user_agent();

}  // namespace karapace::curl
