#include "karapace/schema/image_config.hpp"

namespace karapace::schema {

std::string image_config_problem(const ImageConfig& config) {
    for (const auto& entry : config.env) {
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0)
            return "Env entry '" + entry.substr(0, 80) + "' is not NAME=value";
        if (entry.find('\0') != std::string::npos) return "an Env entry holds a NUL byte";
    }
    if (!config.working_dir.empty() && config.working_dir.front() != '/')
        return "WorkingDir '" + config.working_dir.substr(0, 80) + "' is not an absolute path";
    if (config.working_dir.find('\0') != std::string::npos) return "WorkingDir holds a NUL byte";
    return {};
}

}  // namespace karapace::schema
