#include "karapace/export/names.hpp"

#include "karapace/util/error.hpp"

namespace karapace::exports {

namespace {

// The reason `name` is unsafe as a file name, or empty when it is fine.
std::string unsafe_reason(std::string_view name) {
    if (name.empty()) return "it is empty";
    if (name.size() > 200) return "it is longer than 200 bytes";
    if (name == "." || name == "..") return "it is a directory reference";
    if (name.find("..") != std::string_view::npos) return "it contains '..'";
    if (name.front() == '.') return "it starts with '.'";
    if (name.front() == '-') return "it starts with '-'";
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (c == '/') return "it contains '/'";
        if (u < 0x20 || u == 0x7f) return "it contains a control character";
        if (c == ' ') return "it contains a space";
        if (c == '\\' || c == '"' || c == '\'' || c == '`' || c == '$' || c == '%')
            return std::string("it contains '") + c + "'";
    }
    return {};
}

}  // namespace

bool valid_app_name(std::string_view name) noexcept {
    try {
        return unsafe_reason(name).empty();
    } catch (...) {
        return false;
    }
}

void validate_app_name(std::string_view name) {
    auto why = unsafe_reason(name);
    if (!why.empty())
        throw Error(Errc::usage, "cannot export application '" + std::string(name) + "': " + why,
                    "name the application by its desktop-file id (as in "
                    "/usr/share/applications/<id>.desktop) or by its executable name");
}

void validate_command(std::string_view command) {
    std::string_view rest = command;
    if (!rest.empty() && rest.front() == '/') {
        if (command.back() == '/')
            throw Error(
                Errc::usage,
                "cannot export command '" + std::string(command) + "': it names a directory",
                "give the path of the executable file inside the environment");
        rest.remove_prefix(1);
        while (!rest.empty()) {
            auto slash = rest.find('/');
            auto part = rest.substr(0, slash);
            std::string why = part.empty() ? "it has an empty path component" : "";
            if (why.empty() && (part == "." || part == ".."))
                why = "it has a '" + std::string(part) + "' component";
            if (why.empty() && slash != std::string_view::npos) {
                // Directory components may start with '.' or '-'; only the safety rules apply.
                for (char c : part)
                    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == '"')
                        why = "it contains a control or quote character";
            } else if (why.empty()) {
                why = unsafe_reason(part);
            }
            if (!why.empty())
                throw Error(Errc::usage,
                            "cannot export command '" + std::string(command) + "': " + why,
                            "give a command name found in the environment's PATH, or its "
                            "absolute path inside the environment");
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        return;
    }
    auto why = unsafe_reason(command);
    if (!why.empty())
        throw Error(Errc::usage, "cannot export command '" + std::string(command) + "': " + why,
                    "give a command name found in the environment's PATH, or its absolute path "
                    "inside the environment");
}

std::string file_prefix(std::string_view label) { return "karapace-" + std::string(label) + "-"; }

}  // namespace karapace::exports
