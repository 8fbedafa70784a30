#include "util/curl_lib.hpp"

#include "karapace/util/error.hpp"
#include "karapace_config.h"
#include "util/dynamic_library.hpp"

namespace karapace::curl {

namespace {}  // namespace

const Api& api() {
    static Api loaded = [] {
        const DynamicLibrary lib("libcurl.so.4", "libcurl", Errc::unavailable,
                                 "install libcurl (Debian: apt-get install libcurl4)",
                                 "install a libcurl 7.85 or newer (Debian: libcurl4)");
        Api a{};
        lib.resolve("curl_global_init", a.global_init);
        lib.resolve("curl_easy_init", a.easy_init);
        lib.resolve("curl_easy_cleanup", a.easy_cleanup);
        lib.resolve("curl_easy_setopt", a.easy_setopt);
        lib.resolve("curl_easy_getinfo", a.easy_getinfo);
        lib.resolve("curl_easy_perform", a.easy_perform);
        lib.resolve("curl_easy_strerror", a.easy_strerror);
        lib.resolve("curl_slist_append", a.slist_append);
        lib.resolve("curl_slist_free_all", a.slist_free_all);
        a.global_init(CURL_GLOBAL_DEFAULT);
        return a;
    }();
    return loaded;
}

Easy new_easy() {
    Easy easy(api().easy_init());
    if (!easy) throw Error(Errc::failed, "cannot initialise libcurl");
    return easy;
}

HeaderList::~HeaderList() {
    if (list_ != nullptr) api().slist_free_all(list_);
}

void HeaderList::add(const std::string& line) {
    curl_slist* next = api().slist_append(list_, line.c_str());
    if (next == nullptr) throw Error(Errc::failed, "out of memory building HTTP headers");
    list_ = next;
}

const char* user_agent() { return "karapace/" KARAPACE_VERSION; }

bool transient(CURLcode code, long http_status) noexcept {
    switch (code) {
    case CURLE_OK:
    case CURLE_HTTP_RETURNED_ERROR:
        return http_status == 408 || http_status == 429 ||
               (http_status >= 500 && http_status <= 599);
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
    }
}

}  // namespace karapace::curl
