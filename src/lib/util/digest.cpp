#include "karapace/util/digest.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/libraries.hpp"
#include "util/dynamic_library.hpp"
#include "util/sha256_small.hpp"

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

namespace {

// libcrypto is loaded the first time bulk data is hashed (an object, a layer, a download), not
// with the program: its relocations and OpenSSL's initialisation (configuration file, provider
// lookup) cost a few milliseconds that commands which only read records would pay for nothing.
struct CryptoLib {
    decltype(&::EVP_MD_CTX_new) md_ctx_new;
    decltype(&::EVP_MD_CTX_free) md_ctx_free;
    decltype(&::EVP_DigestInit_ex) digest_init;
    decltype(&::EVP_DigestUpdate) digest_update;
    decltype(&::EVP_DigestFinal_ex) digest_final;
    const EVP_MD* sha256 = nullptr;  // fetched once, not implicitly on every initialisation
};

const CryptoLib& crypto_lib() {
    static const CryptoLib api = [] {
        const DynamicLibrary lib("libcrypto.so.3", "libcrypto", Errc::failed,
                                 "install OpenSSL 3 (Debian: libssl3)",
                                 "install OpenSSL 3 (Debian: libssl3)");
        CryptoLib a{};
        lib.resolve("EVP_MD_CTX_new", a.md_ctx_new);
        lib.resolve("EVP_MD_CTX_free", a.md_ctx_free);
        lib.resolve("EVP_DigestInit_ex", a.digest_init);
        lib.resolve("EVP_DigestUpdate", a.digest_update);
        lib.resolve("EVP_DigestFinal_ex", a.digest_final);
        decltype(&::EVP_MD_fetch) fetch = nullptr;
        lib.resolve("EVP_MD_fetch", fetch);
        a.sha256 = fetch(nullptr, "SHA256", nullptr);
        if (a.sha256 == nullptr)
            throw Error(Errc::failed, "OpenSSL offers no SHA-256 implementation",
                        "check the OpenSSL configuration (OPENSSL_CONF, providers)");
        return a;
    }();
    return api;
}

}  // namespace

struct Sha256::Ctx {
    EVP_MD_CTX* md = nullptr;
    ~Ctx() {
        if (md != nullptr) crypto_lib().md_ctx_free(md);
    }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
    const auto& c = crypto_lib();
    ctx_->md = c.md_ctx_new();
    if (ctx_->md == nullptr || c.digest_init(ctx_->md, c.sha256, nullptr) != 1)
        throw Error(Errc::failed, "OpenSSL could not initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t len) {
    if (len != 0 && crypto_lib().digest_update(ctx_->md, data, len) != 1)
        throw Error(Errc::failed, "OpenSSL SHA-256 update failed");
}

Digest Sha256::finish() {
    std::array<std::uint8_t, Digest::size> out{};
    unsigned int len = 0;
    if (crypto_lib().digest_final(ctx_->md, out.data(), &len) != 1 || len != Digest::size)
        throw Error(Errc::failed, "OpenSSL SHA-256 finish failed");
    return Digest(out);
}

Digest sha256(std::string_view data) {
    // Records and identities are a few kilobytes: hashing them here is quicker than loading
    // OpenSSL. Above this size OpenSSL's SHA extensions win, where OpenSSL can be loaded: the
    // static front (src/cli/front.hpp) hashes every record here, whatever its size.
    constexpr std::size_t small_input = 64 * 1024;
    if (data.size() <= small_input || !can_load_libraries())
        return Digest(detail::sha256_small(data));
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
