#include "sandbox/wire.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "sandbox/init_start.hpp"

namespace karapace::sandbox::wire {

namespace {
bool get_text(const std::string& in, std::size_t& pos, std::string& text) {
    if (pos + 2 > in.size()) return false;
    std::size_t n = static_cast<unsigned char>(in[pos]) |
                    static_cast<std::size_t>(static_cast<unsigned char>(in[pos + 1])) << 8;
    pos += 2;
    if (pos + n > in.size()) return false;
    text.assign(in, pos, n);
    pos += n;
    return true;
}
}  // namespace

void send_error(int fd, const Error& error) noexcept {
    char out[init_start::kMaxEncodedError];
    std::size_t n = init_start::encode_error(out, static_cast<unsigned char>(error.code()),
                                             error.what(), error.hint().c_str());
    while (::write(fd, out, n) < 0 && errno == EINTR) {}
}

void send_error(int fd, Errc code, const char* message, int err) noexcept {
    try {
        std::string text = message;
        if (err != 0) text += std::string(": ") + std::strerror(err);
        Errc c = code;
        if (err == EACCES || err == EPERM) c = Errc::permission;
        send_error(fd, Error(c, text));
    } catch (...) {
        send_error(fd, Error(code, "sandbox setup failed"));
    }
}

std::optional<Error> receive_error(int fd) {
    std::string in;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
    }
    return decode_error(in);
}

std::optional<Error> decode_error(const std::string& in) {
    if (in.empty()) return std::nullopt;
    std::size_t pos = 1;
    std::string message, hint;
    if (!get_text(in, pos, message) || !get_text(in, pos, hint))
        return Error(Errc::runtime, "the sandbox reported a garbled error");
    auto code = static_cast<Errc>(static_cast<unsigned char>(in[0]));
    if (code > Errc::unavailable) code = Errc::runtime;
    return Error(code, message, hint);
}

}  // namespace karapace::sandbox::wire
