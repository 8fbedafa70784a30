// libFuzzer target for registry responses: the input is an image manifest and, after the first
// NUL byte, an image config. Both must be read or refused with karapace::Error; an environment
// image that is accepted must survive being built again and read back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "invariant.hpp"
#include "karapace/remote/oci_image.hpp"
#include "karapace/util/error.hpp"

namespace {

using karapace::fuzz::require;

using namespace karapace::remote;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nul = input.find('\0');
    auto manifest_text = input.substr(0, nul);
    auto config_text = nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1);

    ParsedManifest manifest;
    try {
        manifest = parse_manifest(manifest_text, oci_manifest_media_type, "fuzz:manifest");
    } catch (const karapace::Error&) {}
    try {
        auto image = parse_config(config_text, manifest, "fuzz:config");
        auto built = build_image(image);
        auto again = parse_manifest(built.manifest, "", "built");
        require(again.layers == image.layers, "a built manifest lists the same layers");
        require(again.config_digest == built.config_digest, "a built manifest names its config");
        auto back = parse_config(built.config, again, "built");
        require(back.env_id == image.env_id && back.name == image.name &&
                    back.lock_text == image.lock_text &&
                    back.manifest_json == image.manifest_json &&
                    back.architecture == image.architecture,
                "a built config reads back the same record");
    } catch (const karapace::Error&) {}
    return 0;
}
