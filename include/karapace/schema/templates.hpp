// Built-in manifest templates for `karapace new` (also shipped as examples/<name>.toml), and the
// writer that turns manifest values into a commented karapace.toml.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/schema/manifest.hpp"

namespace karapace::schema {

struct Template {
    std::string name;         // "minimal", "dev", ...
    std::string description;  // one line for `karapace new --help` and prompts
    std::string text;         // the commented manifest, byte-identical to examples/<name>.toml
};

// minimal, dev, gui-dev, rust-dev, ubuntu-dev, debian-dev, in that order.
const std::vector<Template>& templates();
// nullptr when there is no template of that name.
const Template* find_template(std::string_view name);

// A commented karapace.toml holding `manifest`'s values; parsing it gives `manifest` back.
std::string render_manifest(const Manifest& manifest);

}  // namespace karapace::schema
