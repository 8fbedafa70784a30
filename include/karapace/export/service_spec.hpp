// What an exported service runs and how systemd treats it (see service_unit.hpp).
#pragma once

#include <string>
#include <vector>

namespace karapace::exports {

struct ServiceSpec {
    std::vector<std::string> command;  // run inside the environment, argv[0] in its PATH
    bool notify = false;               // Type=notify: ready when the command sends READY=1
    std::string restart = "on-failure";
    std::vector<std::string> sockets;  // ListenStream= addresses of the .socket unit, if any
};

}  // namespace karapace::exports
