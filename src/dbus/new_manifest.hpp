// CreateFromTemplate: a karapace.toml written from one of the templates `karapace new` offers,
// for "new environment" dialogs. The request is decoded and checked on the bus thread; the file
// is written on a worker.
#pragma once

#include <string>

#include "job.hpp"

namespace karapace::dbus {

struct TemplateRequest {
    std::string template_name;
    std::string dir;       // absolute, no "." or ".." components
    std::string env_name;  // for the header comment; may be empty
    bool force = false;
};

// Error(not_found) for an unknown template, Error(usage) for a relative directory or an option
// that is unknown or of the wrong type, the env-name error for a bad env_name.
TemplateRequest decode_template_request(const std::string& template_name, const std::string& dir,
                                        const ResultMap& options);

// Writes <dir>/karapace.toml (creating dir) and returns its path. Error(conflict) when the file
// exists and force is off.
std::string write_template_manifest(const TemplateRequest& request);

}  // namespace karapace::dbus
