// SHA-256 in plain C++ (FIPS 180-4) for short in-memory inputs: record checksums, identities,
// cache keys. Hashing a 1 KB record this way takes microseconds, while loading and initialising
// OpenSSL costs milliseconds, which commands that only read records (exec, list, inspect)
// would otherwise pay on every run. Bulk data goes through OpenSSL (digest.cpp), which uses the
// CPU's SHA extensions; a program that cannot load OpenSSL (the static front) hashes whole
// records of any size here.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace karapace::detail {

std::array<std::uint8_t, 32> sha256_small(std::string_view data) noexcept;

}  // namespace karapace::detail
