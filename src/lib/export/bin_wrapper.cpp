#include "karapace/export/bin_wrapper.hpp"

#include "karapace/export/names.hpp"

namespace karapace::exports {

std::optional<std::string> resolve_command(const MergedTree& tree, std::string_view command,
                                           std::string_view search_path) {
    validate_command(command);
    auto usable = [&](const std::string& path) {
        auto e = tree.find(path);
        return e && S_ISREG(e->st.st_mode) && (e->st.st_mode & 0111) != 0;
    };
    if (command.front() == '/') {
        if (usable(std::string(command))) return std::string(command);
        return std::nullopt;
    }
    std::string_view dirs = search_path;
    while (!dirs.empty()) {
        auto colon = dirs.find(':');
        auto dir = dirs.substr(0, colon);
        auto path = std::string(dir) + "/" + std::string(command);
        if (!dir.empty() && dir.front() == '/' && usable(path)) return path;
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

std::string shell_quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string wrapper_script(const std::string& path, const LaunchTarget& t) {
    std::string s = "#!/bin/sh\n";
    s += "# Runs " + path + " inside the Karapace environment " + t.label + ".\n";
    s += "# Written by `karapace export --bin`; `karapace unexport` removes it.\n";
    s += "# X-Karapace-Env=" + t.env_id + "\n";
    s += "if [ \"${container:-}\" = karapace ] && [ \"${KARAPACE_ENV:-}\" = " +
         shell_quote(t.label) + " ]; then\n";
    s += "    exec " + shell_quote(path) + " \"$@\"\n";
    s += "fi\n";
    s += "exec " + shell_quote(t.program) + " --store " + shell_quote(t.store_root) + " exec " +
         t.env_id + " -- " + shell_quote(path) + " \"$@\"\n";
    return s;
}

}  // namespace karapace::exports
