// libFuzzer target for the lock file parser and the identity recomputation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "karapace/schema/identity.hpp"
#include "karapace/schema/lock.hpp"
#include "karapace/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto lock = karapace::schema::parse_lock(text, "fuzz.lock");
        (void)karapace::schema::render_lock(lock);
        karapace::schema::verify_integrity(lock, "fuzz.lock");
    } catch (const karapace::Error&) {}
    return 0;
}
