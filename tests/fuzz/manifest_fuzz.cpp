// libFuzzer target: any bytes given to the manifest parser either parse (and then normalise and
// serialise) or raise karapace::Error; nothing else may escape and nothing may crash. The [env]
// values it accepts expand without growing when every reference is unset.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "invariant.hpp"
#include "karapace/schema/env_vars.hpp"
#include "karapace/schema/manifest.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto m = karapace::schema::parse_manifest(text, "fuzz.toml");
        (void)karapace::schema::canonical_json(karapace::schema::normalize(m));
        for (const auto& var : m.env) {
            auto expanded = karapace::schema::expand_env_value(
                var.value, [](std::string_view) -> const std::string* { return nullptr; });
            karapace::fuzz::require(expanded.size() <= var.value.size(),
                                    "an [env] value grew while expanding unset references");
        }
    } catch (const karapace::Error&) {}
    return 0;
}
