#include "karapace/schema/env_vars.hpp"

#include <algorithm>
#include <array>

namespace karapace::schema {

namespace {

struct Reserved {
    std::string_view name;
    std::string_view why;
};

// What the sandbox sets for every session, and what points at the host sockets it binds: a
// different value would not move the socket, only break the program looking for it.
constexpr std::array<Reserved, 12> kReserved{{
    {"container", "marks every session as a karapace environment"},
    {"KARAPACE_ENV", "names the environment in every session"},
    {"HOME", "is set by the sandbox to the session user's home (root's with --root)"},
    {"USER", "is set by the sandbox to the session user's name"},
    {"LOGNAME", "is set by the sandbox to the session user's name"},
    {"DISPLAY", "names the host's X11 display, which the sandbox shares"},
    {"WAYLAND_DISPLAY", "names the host's Wayland socket, which the sandbox shares"},
    {"XAUTHORITY", "points at the host's X11 cookie, which the sandbox shares"},
    {"XDG_RUNTIME_DIR", "holds the host sockets the sandbox shares"},
    {"DBUS_SESSION_BUS_ADDRESS", "points at the host's session bus, which the sandbox shares"},
    {"PULSE_SERVER", "points at the host's sound server, which the sandbox shares"},
    {"SSH_AUTH_SOCK", "points at the host's SSH agent, which the sandbox shares"},
}};

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

// The part of `value` from `at`, short enough for a message, cut before a UTF-8 continuation byte.
std::string excerpt(std::string_view value, std::size_t at) {
    std::size_t end = std::min(value.size(), at + 12);
    while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xc0) == 0x80)
        ++end;
    return std::string(value.substr(at, end - at)) + (end < value.size() ? "…" : "");
}

// A reference at value[at] == '$': the name it refers to and where it ends. `name` is empty for
// `$$`; `end` is npos when the '$' starts nothing valid.
struct Reference {
    std::string_view name;
    std::size_t end = std::string_view::npos;
};

Reference reference_at(std::string_view value, std::size_t at) {
    std::size_t i = at + 1;
    if (i < value.size() && value[i] == '$') return {{}, i + 1};
    bool braced = i < value.size() && value[i] == '{';
    if (braced) ++i;
    std::size_t start = i;
    if (i >= value.size() || !name_start(value[i])) return {};
    while (i < value.size() && name_char(value[i]))
        ++i;
    std::string_view name = value.substr(start, i - start);
    if (!braced) return {name, i};
    if (i < value.size() && value[i] == '}') return {name, i + 1};
    return {};
}

}  // namespace

bool valid_variable_name(std::string_view name) noexcept {
    return !name.empty() && name_start(name.front()) &&
           std::all_of(name.begin(), name.end(), name_char);
}

std::string env_name_problem(std::string_view name) {
    if (!valid_variable_name(name))
        return std::string(name.empty() ? "the empty name" : name) +
               " is not a variable name (letters, digits and '_', not starting with a digit)";
    for (const auto& r : kReserved)
        if (r.name == name) return std::string(name) + " " + std::string(r.why);
    return {};
}

const std::vector<std::string>& reserved_env_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        out.reserve(kReserved.size());
        for (const auto& r : kReserved)
            out.emplace_back(r.name);
        std::sort(out.begin(), out.end());
        return out;
    }();
    return names;
}

std::string env_value_problem(std::string_view value, std::vector<std::string>* references) {
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u == 0) return "contains a NUL character";
        if (c == '\n' || c == '\r') return "contains a line break (a value is one line of text)";
        if ((u < 0x20 && c != '\t') || u == 0x7f) return "contains a control character";
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '$') continue;
        auto ref = reference_at(value, i);
        if (ref.end == std::string_view::npos)
            return "has a '$' that starts no variable reference: \"" + excerpt(value, i) + "\"";
        if (!ref.name.empty() && references != nullptr) references->emplace_back(ref.name);
        i = ref.end - 1;
    }
    return {};
}

std::string env_var_problem(const EnvVar& var) {
    auto problem = env_name_problem(var.name);
    return problem.empty() ? env_value_problem(var.value) : problem;
}

std::string expand_env_value(std::string_view value,
                             const std::function<const std::string*(std::string_view)>& lookup) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '$') {
            out += value[i];
            continue;
        }
        auto ref = reference_at(value, i);
        if (ref.end == std::string_view::npos) {
            out += '$';
            continue;
        }
        if (ref.name.empty()) {
            out += '$';
        } else if (const std::string* v = lookup(ref.name)) {
            out += *v;
        }
        i = ref.end - 1;
    }
    return out;
}

std::string hook_command_problem(std::string_view command) {
    if (std::all_of(command.begin(), command.end(),
                    [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }))
        return "is empty";
    for (char c : command) {
        auto u = static_cast<unsigned char>(c);
        if (u == 0) return "contains a NUL character (no command line can hold one)";
        if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7f)
            return "contains a control character other than tab and newline";
    }
    return {};
}

}  // namespace karapace::schema
