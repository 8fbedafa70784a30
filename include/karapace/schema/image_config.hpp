// What an OCI base image's config asks of the sessions that run on it (`config.Env`, `User`,
// `WorkingDir`). Recorded in the image cache, in the lock (`[base.config]`) and in the
// environment's run settings; not part of the identity. docs/images.md says how each applies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karapace::schema {

struct ImageConfig {
    std::vector<std::string> env;  // "NAME=value", in the image's order
    std::string user;              // as the image says it ("1000", "app:app"); recorded only
    std::string working_dir;       // absolute

    bool empty() const noexcept { return env.empty() && user.empty() && working_dir.empty(); }
    friend bool operator==(const ImageConfig&, const ImageConfig&) = default;
};

// Why an image config cannot be used ("" when it can): an Env entry without NAME= or with a NUL,
// a working directory that is not absolute.
std::string image_config_problem(const ImageConfig& config);

// Variables a session always sets itself, which an image's Env does not change.
inline bool image_env_reserved(std::string_view name) {
    return name == "HOME" || name == "USER" || name == "LOGNAME" || name == "container" ||
           name == "KARAPACE_ENV" || name == "HOSTNAME";
}

}  // namespace karapace::schema
