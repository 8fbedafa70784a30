// What an exported service runs and how systemd treats it (see service_unit.hpp); the same
// description as a manifest's [services] entries.
#pragma once

#include "karapace/schema/service.hpp"

namespace karapace::exports {

using ServiceSpec = schema::ServiceSpec;

}  // namespace karapace::exports
