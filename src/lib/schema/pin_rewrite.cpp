#include "karapace/schema/pin_rewrite.hpp"

#include "karapace/schema/manifest.hpp"
#include "karapace/util/error.hpp"
#include "schema/text.hpp"
#include "schema/toml_reader.hpp"

namespace karapace::schema {

namespace {

// Byte offset of (line, column) in `text`, both 1-based, as toml11 counts them (lines end at
// '\n'; columns count bytes).
std::size_t offset_of(std::string_view text, unsigned line, unsigned column) {
    std::size_t pos = 0;
    for (unsigned l = 1; l < line; ++l) {
        pos = text.find('\n', pos);
        if (pos == std::string_view::npos) return std::string_view::npos;
        ++pos;
    }
    return pos + column - 1;
}

}  // namespace

std::string rewrite_base_image(std::string_view manifest_text, const std::string& source_name,
                               const std::string& new_image) {
    Manifest before = parse_manifest(manifest_text, source_name);
    std::string image = detail::trim(new_image);
    if (image.empty() || detail::has_control_char(image) || image.find(' ') != std::string::npos)
        throw Error(Errc::failed,
                    "cannot write base.image = " + detail::toml_basic_string(new_image) + " into " +
                        source_name + ": not a valid image reference");

    detail::TomlSource src{source_name, Errc::manifest};
    toml::value root = detail::parse_toml(manifest_text, src);
    const toml::value& value = root.as_table().at("base").as_table().at("image");
    auto loc = value.location();
    auto pos = detail::source_position(src, {loc.line(), loc.column()});
    std::size_t start = offset_of(manifest_text, pos.line, pos.column);
    std::size_t length = loc.region();
    if (start == std::string_view::npos || start + length > manifest_text.size() || length < 2 ||
        (manifest_text[start] != '"' && manifest_text[start] != '\''))
        throw Error(Errc::failed, source_name + ": cannot locate the value of base.image (line " +
                                      std::to_string(pos.line) + ")");

    const bool literal = manifest_text[start] == '\'';
    std::string quoted =
        literal ? detail::toml_literal_or_basic(image) : detail::toml_basic_string(image);
    std::string out;
    out.reserve(manifest_text.size() + quoted.size());
    out.append(manifest_text.substr(0, start));
    out.append(quoted);
    out.append(manifest_text.substr(start + length));

    Manifest after = parse_manifest(out, source_name);
    Manifest expected = before;
    expected.base_image = image;
    if (!(after == expected))
        throw Error(Errc::failed,
                    source_name + ": rewriting base.image would change other settings; not written",
                    "edit base.image by hand");
    return out;
}

}  // namespace karapace::schema
