// Registries: `karapace push`, `pull`, `login` and `logout`.
#include <unistd.h>

#include <cerrno>

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/progress.hpp"
#include "cli/prompt.hpp"
#include "karapace/remote/login.hpp"
#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

std::string counts(std::size_t moved, std::uint64_t bytes, std::size_t skipped) {
    return std::to_string(moved) + (moved == 1 ? " layer, " : " layers, ") + format_bytes(bytes) +
           "; " + std::to_string(skipped) + " already there";
}

// The password given on stdin: everything up to the end of input, less one final newline.
std::string password_from_stdin() {
    constexpr std::size_t limit = std::size_t{64} * 1024;
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno(Errc::failed, "cannot read the password from stdin");
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > limit)
            throw Error(Errc::usage, "more than 64 KiB on stdin: that is not a password",
                        "pipe only the password into karapace login --password-stdin");
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
}

boost::json::value or_null(const std::string& s) {
    return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

}  // namespace

int run_login(const Invocation& inv, Output& out) {
    const std::string registry = inv.positional("registry");
    const bool from_stdin = inv.flag("password-stdin");
    const bool interactive = out.terminal().stdin_tty && out.terminal().stderr_tty;
    remote::Credentials c;
    c.username = inv.value("username");
    if (c.username.empty()) {
        if (from_stdin)
            throw Error(Errc::usage,
                        "--password-stdin needs --username: stdin carries the password",
                        "karapace login " + registry + " --username USER --password-stdin");
        if (!interactive)
            throw Error(Errc::usage, "no user name, and no terminal to ask for it",
                        "karapace login " + registry + " --username USER --password-stdin");
        c.username = ask("Username");
    }
    if (from_stdin) {
        c.password = password_from_stdin();
        c.source = "stdin";
    } else if (interactive) {
        c.password = ask_secret("Password for " + c.username + " at " + registry);
        c.source = "the prompt";
    } else {
        throw Error(Errc::usage, "no terminal to ask for the password",
                    "pipe it in: karapace login " + registry + " --username " + c.username +
                        " --password-stdin (a password is never taken from the command line)");
    }
    if (c.password.empty())
        throw Error(Errc::usage, "the password is empty", "nothing was written; give the password");
    auto r = remote::login(registry, c);
    out.json_result(boost::json::object{
        {"registry", r.registry},
        {"username", r.username},
        {"auth_file", r.auth_file},
        {"verified", r.verified},
        {"shadowed_by", or_null(r.shadowed_by)},
    });
    out.line("logged in to " + r.registry + " as " + r.username + "; saved in " + r.auth_file);
    if (!r.verified)
        out.hint(r.registry +
                 " answered without asking for credentials, so they could not be "
                 "checked; they were saved anyway");
    if (!r.shadowed_by.empty())
        out.hint("push and pull take the credentials for " + r.registry + " in " + r.shadowed_by +
                 " first; remove them there to use this login");
    return 0;
}

int run_logout(const Invocation& inv, Output& out) {
    const bool all = inv.flag("all");
    const std::string registry = inv.positional("registry");
    if (all == !registry.empty())
        throw Error(Errc::usage,
                    all ? "logout --all takes no registry" : "logout needs the registry to forget",
                    "karapace logout REGISTRY, or karapace logout --all");
    auto r = all ? remote::logout_all() : remote::logout(registry);
    boost::json::array removed;
    for (const auto& k : r.removed)
        removed.emplace_back(k);
    out.json_result(boost::json::object{
        {"auth_file", r.auth_file},
        {"removed", std::move(removed)},
        {"still_found_in", or_null(r.still_found_in)},
    });
    if (all)
        out.line(r.removed.empty() ? "no logins in " + r.auth_file
                                   : "removed " + std::to_string(r.removed.size()) +
                                         " login(s) from " + r.auth_file);
    else if (r.removed.empty())
        out.line("not logged in to " + registry + ": " + r.auth_file + " has no entry for it");
    else
        out.line("removed the login for " + r.removed.front() + " from " + r.auth_file);
    if (!r.still_found_in.empty())
        out.hint("push and pull still find credentials for " + registry + " in " +
                 r.still_found_in + "; remove them there too to log out completely");
    return 0;
}

int run_push(const Invocation& inv, Output& out) {
    core::PushOptions o;
    o.env = inv.positional("env");
    o.tag = inv.value("tag");
    o.remote = inv.value("remote");
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.push(o, *progress);
    out.json_result(boost::json::object{
        {"env_id", r.env_id},
        {"short_id", r.short_id},
        {"reference", r.reference},
        {"digest", r.digest},
        {"layers_pushed", r.layers_pushed},
        {"layers_skipped", r.layers_skipped},
        {"bytes_pushed", r.bytes_pushed},
        {"uncommitted_changes", r.uncommitted_changes},
    });
    out.line("pushed " + r.short_id + " (" +
             counts(r.layers_pushed, r.bytes_pushed, r.layers_skipped) + ")");
    out.line("tagged as " + r.reference);
    out.line("digest " + r.digest);
    if (r.uncommitted_changes)
        out.hint("changes in the writable layer were not pushed; `karapace commit " + o.env +
                 "` and push again to include them");
    return 0;
}

int run_pull(const Invocation& inv, Output& out) {
    core::PullOptions o;
    o.reference = inv.positional("reference");
    o.remote = inv.value("remote");
    if (auto name = inv.value("name"); !name.empty()) o.name = name;
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.pull(o, *progress);
    boost::json::value name =
        r.name.empty() ? boost::json::value(nullptr) : boost::json::value(r.name);
    boost::json::value snapshot = r.snapshot_added.empty() ? boost::json::value(nullptr)
                                                           : boost::json::value(r.snapshot_added);
    out.json_result(boost::json::object{
        {"env_id", r.env_id},
        {"short_id", r.short_id},
        {"name", name},
        {"reference", r.reference},
        {"digest", r.digest},
        {"layers_pulled", r.layers_pulled},
        {"layers_skipped", r.layers_skipped},
        {"bytes_pulled", r.bytes_pulled},
        {"already_present", r.already_present},
        {"snapshot_added", snapshot},
        {"renamed", r.renamed},
        {"previous_name", r.renamed && !r.previous_name.empty()
                              ? boost::json::value(r.previous_name)
                              : boost::json::value(nullptr)},
    });
    const std::string label = r.name.empty() ? r.short_id : r.name;
    if (r.renamed)
        out.line("environment " + r.short_id + " was already here " +
                 (r.previous_name.empty() ? std::string("without a name")
                                          : "as '" + r.previous_name + "'") +
                 "; renamed it to '" + r.name + "'");
    if (r.already_present) {
        if (!r.renamed)
            out.line("environment " + label + " (" + r.short_id +
                     ") is already here; nothing to do");
        return 0;
    }
    if (!r.snapshot_added.empty()) {
        out.line("environment " + label + " was already here; added snapshot " +
                 r.snapshot_added.substr(0, 12) + " from " + r.reference);
        out.hint("apply it with: karapace restore " + label + " " + r.snapshot_added.substr(0, 12));
        return 0;
    }
    out.line("pulled " + r.short_id + (r.name.empty() ? "" : " as '" + r.name + "'") + " (" +
             counts(r.layers_pulled, r.bytes_pulled, r.layers_skipped) + ")");
    out.line("ready: karapace exec " + label + " -- <command>");
    return 0;
}

}  // namespace karapace::cli
