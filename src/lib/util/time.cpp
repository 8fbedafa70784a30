#include "karapace/util/time.hpp"

#include <cstdio>
#include <ctime>

namespace karapace {

namespace {
std::string format(SystemTime t, bool nanos) {
    using namespace std::chrono;
    auto secs = time_point_cast<seconds>(t);
    if (secs > t) secs -= seconds(1);  // floor for times before the epoch
    auto ns = duration_cast<nanoseconds>(t - secs).count();
    std::time_t tt = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    if (nanos) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns));
        out += frac;
    }
    out += 'Z';
    return out;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    return true;
}
}  // namespace

std::string format_rfc3339(SystemTime t) { return format(t, false); }
std::string format_rfc3339_nanos(SystemTime t) { return format(t, true); }
std::string now_rfc3339() { return format_rfc3339(std::chrono::system_clock::now()); }

std::optional<SystemTime> parse_rfc3339(std::string_view s) {
    int Y, M, D, h, m, sec;
    if (!digits(s, 0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' ||
        !digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, m) || s[16] != ':' ||
        !digits(s, 17, 2, sec))
        return std::nullopt;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
    std::size_t pos = 19;
    long long nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int count = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (count < 9) {
                nanos = nanos * 10 + (s[pos] - '0');
                ++count;
            }
            ++pos;
        }
        if (count == 0) return std::nullopt;
        while (count++ < 9)
            nanos *= 10;
    }
    long offset = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om))
            return std::nullopt;
        offset = (oh * 3600L + om * 60L) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    std::time_t tt = timegm(&tm);
    using namespace std::chrono;
    return system_clock::from_time_t(tt - offset) +
           duration_cast<system_clock::duration>(nanoseconds(nanos));
}

}  // namespace karapace
