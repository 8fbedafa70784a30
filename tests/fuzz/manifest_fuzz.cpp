// libFuzzer target: any bytes given to the manifest parser either parse (and then normalise and
// serialise) or raise karapace::Error; nothing else may escape and nothing may crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "karapace/schema/manifest.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto m = karapace::schema::parse_manifest(text, "fuzz.toml");
        (void)karapace::schema::canonical_json(karapace::schema::normalize(m));
    } catch (const karapace::Error&) {}
    return 0;
}
