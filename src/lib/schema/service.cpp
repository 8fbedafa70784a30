#include "karapace/schema/service.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace karapace::schema {

namespace {

constexpr std::array restart_policies{"no",          "always",   "on-success", "on-failure",
                                      "on-abnormal", "on-abort", "on-watchdog"};

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

std::optional<ServiceProblem> service_problem(std::string_view name, const ServiceSpec& spec) {
    if (name.empty() || name.size() > 64 ||
        !std::isalnum(static_cast<unsigned char>(name.front())) ||
        !std::all_of(name.begin(), name.end(), name_char))
        return ServiceProblem{"'" + std::string(name) + "' is not a usable service name",
                              "use letters, digits, '_', '.' and '-' (at most 64), starting with "
                              "a letter or digit"};
    if (std::find(restart_policies.begin(), restart_policies.end(), spec.restart) ==
        restart_policies.end())
        return ServiceProblem{
            "'" + spec.restart + "' is not a restart policy of service " + std::string(name),
            "use no, always, on-success, on-failure, on-abnormal, on-abort or "
            "on-watchdog (systemd.service(5), Restart=)"};
    auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
    if (spec.command.empty() || spec.command.front().empty() ||
        std::any_of(spec.command.begin(), spec.command.end(), has_nul))
        return ServiceProblem{"service " + std::string(name) + " has no usable command",
                              "give the command and its arguments, e.g. [\"python3\", \"-m\", "
                              "\"http.server\"]"};
    for (const auto& s : spec.sockets)
        if (s.empty() || std::any_of(s.begin(), s.end(), [](char c) {
                return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
            }))
            return ServiceProblem{
                "'" + s + "' is not a socket address (service " + std::string(name) + ")",
                "give a port (8080), an address and port (127.0.0.1:8080, "
                "[::1]:8080) or an absolute path of a unix socket"};
    return std::nullopt;
}

}  // namespace karapace::schema
