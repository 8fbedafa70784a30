#include "cli/manpages.hpp"

#include <cctype>

#include "cli/suggest.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/paths.hpp"
#include "karapace_config.h"

namespace karapace::cli {

namespace {

// Escapes text for roff: backslashes, and a leading '.' or '\'' that would start a request.
std::string roff(std::string_view text) {
    std::string out;
    bool line_start = true;
    for (char c : text) {
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
        line_start = c == '\n';
    }
    return out;
}

std::string upper(std::string_view s) {
    std::string out;
    for (char c : s)
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string header(std::string_view page, std::string_view summary) {
    std::string s =
        ".TH " + upper(page) + " 1 \"\" \"karapace " KARAPACE_VERSION "\" \"Karapace Manual\"\n";
    s += ".SH NAME\n" + roff(page) + " \\- " + roff(summary) + "\n";
    return s;
}

std::string flag_item(const FlagSpec& f) {
    std::string s = ".TP\n";
    if (f.short_name != 0) s += "\\fB\\-" + std::string(1, f.short_name) + "\\fR, ";
    s += "\\fB\\-\\-" + roff(f.name) + "\\fR";
    if (f.kind != FlagKind::boolean) s += " \\fI" + roff(f.value_name) + "\\fR";
    s += "\n" + roff(f.help);
    if (f.choices != nullptr) s += " (" + roff(join(f.choices())) + ")";
    if (!f.default_value.empty()) s += " Default: " + roff(f.default_value) + ".";
    if (f.kind == FlagKind::list || f.repeatable) s += " May be given more than once.";
    return s + "\n";
}

std::string flags_section(std::string_view title, std::span<const FlagSpec> flags) {
    std::string s = ".SH " + std::string(title) + "\n";
    for (const auto& f : flags)
        s += flag_item(f);
    return s;
}

std::string exit_section() {
    std::string s = ".SH EXIT STATUS\n";
    for (const auto& e : exit_statuses())
        s += ".TP\n.B " + std::to_string(e.code) + "\n" + roff(e.meaning) + "\n";
    return s;
}

std::string environment_section() {
    return ".SH ENVIRONMENT\n"
           ".TP\n.B KARAPACE_STORE\nStore root when \\fB\\-\\-store\\fR is not given.\n"
           ".TP\n.B KARAPACE_LOG\nLog level on stderr: error, warn, info, debug or trace.\n"
           ".TP\n.B NO_COLOR\nWhen set and not empty, no colours are used.\n";
}

}  // namespace

std::string main_man_page() {
    std::string s = header("karapace", "reproducible, rootless development environments");
    s += ".SH SYNOPSIS\n.B karapace\n[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]\n";
    s += ".SH DESCRIPTION\n"
         "Karapace builds development environments from a manifest (karapace.toml), records "
         "exactly what was installed in a lock file (karapace.lock), and runs commands inside "
         "them with Linux namespaces, as an ordinary user, integrated with the desktop.\n"
         ".PP\n"
         "Results are printed on standard output (as JSON with \\fB\\-\\-json\\fR); logs, "
         "progress and errors go to standard error.\n";
    s += ".SH COMMANDS\n";
    for (const auto& c : commands())
        s += ".TP\n.B " + roff(c.name) + "\n" + roff(c.summary) + ". See \\fBkarapace\\-" +
             roff(c.name) + "\\fR(1).\n";
    s += flags_section("GLOBAL OPTIONS", global_flags());
    s += environment_section();
    s += exit_section();
    s += ".SH SEE ALSO\n";
    bool first = true;
    for (const auto& c : commands()) {
        s += (first ? "" : ",\n") + std::string(".BR karapace\\-") + roff(c.name) + " (1)";
        first = false;
    }
    return s + "\n";
}

std::string command_man_page(const CommandSpec& cmd) {
    const std::string page = "karapace-" + std::string(cmd.name);
    std::string s = header(page, cmd.summary);
    std::string usage = usage_line(cmd);
    const std::string lead = "karapace " + std::string(cmd.name);
    s += ".SH SYNOPSIS\n.B " + roff(lead) + "\n";
    if (usage.size() > lead.size()) s += roff(usage.substr(lead.size() + 1)) + "\n";
    s += ".SH DESCRIPTION\n" + roff(cmd.description) + "\n";
    if (!cmd.positionals.empty() || cmd.trailing != Trailing::none) {
        s += ".SH ARGUMENTS\n";
        for (const auto& p : cmd.positionals) {
            s += ".TP\n.I " + roff(positional_label(p)) + "\n" + roff(p.help);
            if (!p.default_value.empty()) s += ". Default: " + roff(p.default_value);
            s += ".\n";
        }
        if (cmd.trailing != Trailing::none)
            s += ".TP\n.I " + roff(cmd.trailing_name) +
                 "...\nThe command line to run, after \\fB\\-\\-\\fR.\n";
    }
    if (!cmd.flags.empty()) s += flags_section("OPTIONS", cmd.flags);
    s += flags_section("GLOBAL OPTIONS", global_flags());
    if (!cmd.json_shape.empty())
        s += ".SH JSON OUTPUT\nWith \\fB\\-\\-json\\fR, on success:\n.PP\n.nf\n" +
             roff(cmd.json_shape) + "\n.fi\n";
    s += exit_section();
    s += ".SH SEE ALSO\n.BR karapace (1)\n";
    return s;
}

std::vector<std::string> write_man_pages(const std::string& dir) {
    make_dirs(dir);
    std::vector<std::string> written;
    write_file_atomic(dir + "/karapace.1", main_man_page());
    written.emplace_back("karapace.1");
    for (const auto& c : commands()) {
        const std::string name = "karapace-" + std::string(c.name) + ".1";
        std::string path = dir;
        path += '/';
        path += name;
        write_file_atomic(path, command_man_page(c));
        written.push_back(name);
    }
    return written;
}

}  // namespace karapace::cli
