// SHA-256 digests: the `Digest` value type (written `sha256:<hex>`) and a streaming hasher over
// OpenSSL EVP, so large files and tar streams are hashed while they are written or read.
// libcrypto is loaded on first use; short in-memory inputs never need it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace karapace {

class Digest {
public:
    static constexpr std::size_t size = 32;

    Digest() = default;
    explicit Digest(const std::array<std::uint8_t, size>& bytes) : bytes_(bytes) {}

    // Accepts "sha256:<64 hex>"; throws Error(failed) naming the bad text otherwise.
    static Digest parse(std::string_view text);
    // Accepts a bare 64-character lower-case hex string.
    static Digest from_hex(std::string_view hex);
    static bool is_hex(std::string_view text) noexcept;

    std::string hex() const;                               // 64 lower-case hex characters
    std::string str() const { return "sha256:" + hex(); }  // OCI form
    const std::array<std::uint8_t, size>& bytes() const noexcept { return bytes_; }

    friend bool operator==(const Digest&, const Digest&) = default;
    friend auto operator<=>(const Digest&, const Digest&) = default;

private:
    std::array<std::uint8_t, size> bytes_{};
};

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, std::size_t len);
    void update(std::string_view text) { update(text.data(), text.size()); }
    // Finishes the hash; the hasher must not be used afterwards.
    Digest finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

// Inputs up to 64 KiB (records, identities) are hashed without OpenSSL; larger ones with it.
Digest sha256(std::string_view data);
// Streams the file through the hasher; throws Error naming the path on I/O errors.
Digest sha256_file(const std::string& path);
Digest sha256_fd(int fd);

}  // namespace karapace
