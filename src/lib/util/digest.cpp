#include "karapace/util/digest.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace {

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

bool Digest::is_hex(std::string_view text) noexcept {
    if (text.size() != size * 2) return false;
    for (char c : text)
        if (hex_value(c) < 0) return false;
    return true;
}

Digest Digest::from_hex(std::string_view hex) {
    if (!is_hex(hex))
        throw Error(Errc::failed, "invalid sha256 digest '" + std::string(hex) +
                                      "': expected 64 lower-case hex characters");
    std::array<std::uint8_t, size> out{};
    for (std::size_t i = 0; i < size; ++i)
        out[i] = static_cast<std::uint8_t>(hex_value(hex[2 * i]) * 16 + hex_value(hex[2 * i + 1]));
    return Digest(out);
}

Digest Digest::parse(std::string_view text) {
    constexpr std::string_view prefix = "sha256:";
    if (!text.starts_with(prefix))
        throw Error(Errc::failed, "invalid digest '" + std::string(text) +
                                      "': expected sha256:<64 hex characters>");
    return from_hex(text.substr(prefix.size()));
}

std::string Digest::hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[bytes_[i] >> 4];
        out[2 * i + 1] = digits[bytes_[i] & 0xf];
    }
    return out;
}

struct Sha256::Ctx {
    EVP_MD_CTX* md = nullptr;
    ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
    ctx_->md = EVP_MD_CTX_new();
    if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
        throw Error(Errc::failed, "OpenSSL could not initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t len) {
    if (len != 0 && EVP_DigestUpdate(ctx_->md, data, len) != 1)
        throw Error(Errc::failed, "OpenSSL SHA-256 update failed");
}

Digest Sha256::finish() {
    std::array<std::uint8_t, Digest::size> out{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_->md, out.data(), &len) != 1 || len != Digest::size)
        throw Error(Errc::failed, "OpenSSL SHA-256 finish failed");
    return Digest(out);
}

Digest sha256(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Digest sha256_fd(int fd) {
    Sha256 h;
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(Errc::failed, "read failed while hashing");
        }
        if (n == 0) break;
        h.update(buf.data(), static_cast<std::size_t>(n));
    }
    return h.finish();
}

Digest sha256_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(Errc::failed, "cannot open " + path);
    try {
        return sha256_fd(fd.get());
    } catch (const Error& e) {
        throw Error(e.code(), path + ": " + e.what(), e.hint());
    }
}

}  // namespace karapace
