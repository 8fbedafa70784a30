// Services: commands of an environment run by the user's systemd as user units, declared in the
// manifest's [services] table or given to `karapace export --service`. The rules for their names
// and options live here so that both say the same.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::schema {

// What a service runs and how systemd treats it.
struct ServiceSpec {
    std::vector<std::string> command;  // run inside the environment, argv[0] in its PATH
    bool notify = false;               // Type=notify: ready when the command sends READY=1
    std::string restart = "on-failure";
    std::vector<std::string> sockets;  // ListenStream= addresses of the .socket unit, if any

    friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

struct ServiceDecl {
    std::string name;
    ServiceSpec spec;

    friend bool operator==(const ServiceDecl&, const ServiceDecl&) = default;
};

struct ServiceProblem {
    std::string message;
    std::string hint;
};

// What is wrong with a service, if anything: a name that is not [A-Za-z0-9_.-]+ starting with a
// letter or digit (at most 64 bytes), a restart policy systemd does not know, an empty command
// or one with NUL bytes, a socket address that is empty or has whitespace or control characters.
std::optional<ServiceProblem> service_problem(std::string_view name, const ServiceSpec& spec);

}  // namespace karapace::schema
