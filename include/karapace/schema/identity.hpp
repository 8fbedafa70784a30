// Environment identity: `env_id` is the SHA-256 of the canonical JSON of a lock file's identity
// fields (image digest, exact packages, apps, hardware, mounts as written, backend, network,
// limits and post_build hooks), so equal locks give equal ids on every machine and for every user.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "karapace/util/error.hpp"

namespace karapace::schema {

struct LockFile;

// 64 lower-case hex characters; the short form is the first 12.
class EnvId {
public:
    static constexpr std::size_t length = 64;
    static constexpr std::size_t short_length = 12;
    // The shortest id prefix an environment reference accepts: shorter ones would match too much
    // to be meant.
    static constexpr std::size_t min_prefix_length = 4;

    EnvId() = default;
    // nullopt unless `text` is exactly 64 lower-case hex characters.
    static std::optional<EnvId> from_hex(std::string_view text);
    // Like from_hex, but throws Error(code) naming `what` and the bad text.
    static EnvId parse(std::string_view text, Errc code = Errc::usage,
                       const std::string& what = "environment id");
    static bool valid(std::string_view text) noexcept;
    // True when an environment reference would read `text` as an id or an id prefix: at least
    // min_prefix_length hex digits, in either case.
    static bool reads_as_prefix(std::string_view text) noexcept;

    bool empty() const noexcept { return hex_.empty(); }
    const std::string& str() const noexcept { return hex_; }
    std::string short_id() const { return hex_.substr(0, short_length); }

    friend bool operator==(const EnvId&, const EnvId&) = default;
    friend auto operator<=>(const EnvId&, const EnvId&) = default;

private:
    explicit EnvId(std::string hex) : hex_(std::move(hex)) {}
    std::string hex_;
};

// Version of the identity recipe, written into the hashed JSON so a future change of recipe
// can never produce the id of a different environment.
inline constexpr const char* identity_recipe = "karapace-env/1";

// The exact bytes that are hashed:
// {"recipe":"karapace-env/1","image_digest":"sha256:…",
//  "packages":[{"name":…,"version":…,"arch":…},…],   sorted by name, arch, version
//  "apps":[…],                                        sorted, unique
//  "gpu":false,"audio":false,
//  "mounts":[{"label":…,"host":…,"container":…,"read_only":false},…],   sorted by label
//  "backend":"namespace","network_isolation":false,"cpu_shares":null,"memory_limit_mb":null,
//  "post_build":["cmd",…]}                            in order; only when there are hooks
std::string identity_json(const LockFile& lock);
EnvId compute_env_id(const LockFile& lock);
// Sets lock.env_id and lock.short_id from compute_env_id.
void assign_identity(LockFile& lock);
// Recomputes the id and compares it (and short_id) with what the lock says; throws Error(manifest)
// naming both ids when they differ.
void verify_integrity(const LockFile& lock, const std::string& source_name = "karapace.lock");

}  // namespace karapace::schema
