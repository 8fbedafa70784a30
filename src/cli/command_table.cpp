#include "cli/command_table.hpp"

#include <array>
#include <cctype>

#include "cli/commands.hpp"

namespace karapace::cli {

namespace {

std::vector<std::string> image_actions() { return {"rm"}; }

using F = FlagSpec;
using P = PositionalSpec;
constexpr auto B = FlagKind::boolean;
constexpr auto V = FlagKind::value;
constexpr auto L = FlagKind::list;

// ---- arguments shared by several commands ----

constexpr std::array manifest_arg{
    P{"manifest", ValueType::file, false, "./karapace.toml", "manifest file to read", nullptr},
};
constexpr std::array env_arg{
    P{"env", ValueType::env, true, "", "environment: name, full id or a unique id prefix (4+)",
      nullptr},
};

constexpr std::array build_flags{
    F{"name", 0, V, ValueType::text, "NAME", "",
      "name the environment: 1 to 64 letters, digits, '_' or '-'", false, nullptr},
    F{"locked", 0, B, ValueType::text, "", "",
      "build exactly what karapace.lock records: the pinned image and the locked package "
      "versions; fail if the manifest drifted from the lock",
      false, nullptr},
    F{"offline", 0, B, ValueType::text, "", "",
      "use only cached images and give the build no network; fails if packages must be "
      "downloaded",
      false, nullptr},
    F{"require-pinned-image", 0, B, ValueType::text, "", "",
      "refuse to build unless base.image is a pinned reference (see karapace pin)", false, nullptr},
};

constexpr std::array enter_flags{
    F{"root", 0, B, ValueType::text, "", "",
      "run as root inside the environment instead of as your own user", false, nullptr},
};
constexpr std::array exec_flags{
    F{"root", 0, B, ValueType::text, "", "",
      "run as root inside the environment instead of as your own user", false, nullptr},
    F{"env", 'e', L, ValueType::text, "K=V", "",
      "set an environment variable for the command (repeatable)", false, nullptr},
};
constexpr std::array destroy_flags{
    F{"force", 'f', B, ValueType::text, "", "", "stop the environment first if it is running",
      false, nullptr},
};
constexpr std::array stop_flags{
    F{"timeout", 't', V, ValueType::number, "SECONDS", "10",
      "seconds to wait after SIGTERM before sending SIGKILL", false, nullptr},
};
constexpr std::array restore_args{
    P{"env", ValueType::env, true, "", "environment: name, full id or a unique id prefix (4+)",
      nullptr},
    P{"snapshot", ValueType::text, true, "", "snapshot id as printed by commit or snapshots",
      nullptr},
};
constexpr std::array export_args{
    P{"env", ValueType::env, true, "", "environment: name, full id or a unique id prefix (4+)",
      nullptr},
    P{"app", ValueType::text, false, "",
      "applications: desktop-file ids (org.gnome.TextEditor) or executable names", nullptr, true},
};
constexpr std::array export_flags{
    F{"bin", 0, L, ValueType::text, "CMD", "",
      "also export command CMD (a name in the environment's PATH or an absolute path) as a "
      "wrapper script (repeatable)",
      false, nullptr},
    F{"bin-dir", 0, V, ValueType::dir, "DIR", "",
      "where command wrappers go (default: ~/.local/bin)", false, nullptr},
    F{"list", 0, B, ValueType::text, "", "", "list what is exported from the environment", false,
      nullptr},
    F{"service", 0, V, ValueType::text, "NAME", "",
      "write the systemd user unit karapace-ENV-NAME.service that runs the command after -- "
      "inside the environment",
      false, nullptr},
    F{"notify", 0, B, ValueType::text, "", "",
      "with --service: Type=notify, the unit is started once the command sends READY=1", false,
      nullptr},
    F{"restart", 0, V, ValueType::text, "POLICY", "on-failure",
      "with --service: systemd's Restart= (no, always, on-success, on-failure, on-abnormal, "
      "on-abort, on-watchdog)",
      false, nullptr},
    F{"socket", 0, L, ValueType::text, "ADDRESS", "",
      "with --service: also write karapace-ENV-NAME.socket listening on ADDRESS (8080, "
      "127.0.0.1:8080, /path); the service gets the socket as fd 3 (repeatable)",
      false, nullptr},
};
constexpr std::array unexport_flags{
    F{"bin", 0, L, ValueType::text, "CMD", "", "remove the wrapper of command CMD (repeatable)",
      false, nullptr},
    F{"service", 0, L, ValueType::text, "NAME", "",
      "remove the systemd unit(s) of service NAME (repeatable)", false, nullptr},
    F{"all", 0, B, ValueType::text, "", "", "remove every launcher and wrapper of the environment",
      false, nullptr},
};
constexpr std::array gc_flags{
    F{"dry-run", 'n', B, ValueType::text, "", "",
      "report what would be removed and how many bytes, remove nothing", false, nullptr},
    F{"grace", 0, V, ValueType::text, "DURATION", "15m",
      "keep garbage younger than this (0, 90s, 10m, 2h, 1d): a build, pull or commit may still "
      "be writing it; while another operation is at work the default applies",
      false, nullptr},
};
constexpr std::array push_flags{
    F{"tag", 0, V, ValueType::text, "TAG", "",
      "where to publish: a tag (v1), repository:tag, or host/repository:tag; default: the "
      "environment's name, tag latest",
      false, nullptr},
    F{"remote", 0, V, ValueType::text, "URL", "",
      "registry (and repository prefix) to push to, e.g. https://ghcr.io/alice or "
      "http://127.0.0.1:5000; default: [remote] url in config.toml",
      false, nullptr},
};
constexpr std::array pull_args{
    P{"reference", ValueType::text, true, "",
      "what to pull: host/repository:tag, host/repository@sha256:<hex>, or repository:tag on the "
      "default remote",
      nullptr},
};
constexpr std::array pull_flags{
    F{"remote", 0, V, ValueType::text, "URL", "",
      "registry (and repository prefix) for references without a host; default: [remote] url "
      "in config.toml",
      false, nullptr},
    F{"name", 0, V, ValueType::text, "NAME", "",
      "name the pulled environment (default: the name it was pushed under)", false, nullptr},
};
constexpr std::array login_args{
    P{"registry", ValueType::text, true, "",
      "registry host[:port], e.g. ghcr.io or 127.0.0.1:5000 (http:// or https:// may precede it)",
      nullptr},
};
constexpr std::array login_flags{
    F{"username", 'u', V, ValueType::text, "USER", "",
      "user name; asked for on a terminal when not given", false, nullptr},
    F{"password-stdin", 0, B, ValueType::text, "", "",
      "read the password from stdin (up to the end of input; one final newline is dropped) "
      "instead of asking for it on the terminal",
      false, nullptr},
};
constexpr std::array logout_args{
    P{"registry", ValueType::text, false, "", "registry host[:port] to forget the login of",
      nullptr},
};
constexpr std::array logout_flags{
    F{"all", 0, B, ValueType::text, "", "", "remove every login from the auth file", false,
      nullptr},
};
constexpr std::array rename_args{
    P{"env", ValueType::env, true, "", "environment: name, full id or a unique id prefix (4+)",
      nullptr},
    P{"new-name", ValueType::text, true, "", "new name: 1 to 64 letters, digits, '_' or '-'",
      nullptr},
};
constexpr std::array migrate_flags{
    F{"apply", 0, B, ValueType::text, "", "",
      "perform the migration; without it the store is only examined", false, nullptr},
};
constexpr std::array completions_args{
    P{"shell", ValueType::choice, true, "", "shell to generate the script for", shell_names},
};
constexpr std::array man_pages_args{
    P{"dir", ValueType::dir, false, "./man", "directory to write the pages to", nullptr},
};
constexpr std::array new_args{
    P{"name", ValueType::text, true, "", "name suggested for the environment", nullptr},
};
constexpr std::array new_flags{
    F{"template", 't', V, ValueType::choice, "TEMPLATE", "",
      "start from a template instead of asking questions", false, template_names},
    F{"force", 'f', B, ValueType::text, "", "", "overwrite an existing ./karapace.toml", false,
      nullptr},
};
constexpr std::array pin_flags{
    F{"check", 0, B, ValueType::text, "", "",
      "only check: exit 0 if base.image is pinned, 1 if it is not", false, nullptr},
    F{"write-lock", 0, B, ValueType::text, "", "",
      "also refresh karapace.lock for the pinned image", false, nullptr},
};
constexpr std::array images_args{
    P{"action", ValueType::choice, false, "", "rm: remove a cached image", image_actions},
    P{"ref", ValueType::text, false, "", "image reference or digest to remove", nullptr},
};
constexpr std::array tui_flags{
    F{"no-mouse", 0, B, ValueType::text, "", "",
      "leave the mouse to the terminal (for selecting text) instead of clicking and scrolling",
      false, nullptr},
};
constexpr std::array help_args{
    P{"command", ValueType::command, false, "", "command to describe", nullptr},
};

constexpr std::array global_flag_table{
    F{"store", 0, V, ValueType::dir, "PATH", "",
      "store root (default: $KARAPACE_STORE, else $XDG_DATA_HOME/karapace)", false, nullptr},
    F{"json", 0, B, ValueType::text, "", "",
      "print results as JSON on stdout (errors too, as {\"error\": {...}})", false, nullptr},
    F{"verbose", 'v', B, ValueType::text, "", "",
      "log more to stderr; repeat for more detail (-v info, -vv debug, -vvv trace)", true, nullptr},
    F{"trace", 0, B, ValueType::text, "", "", "log everything to stderr (same as -vvv)", false,
      nullptr},
    F{"lock-timeout", 0, V, ValueType::number, "SECONDS", "",
      "give up waiting for the store lock after SECONDS (default: wait)", false, nullptr},
    F{"version", 0, B, ValueType::text, "", "", "print the version and exit", false, nullptr},
    F{"help", 'h', B, ValueType::text, "", "", "show help for karapace or for the command", false,
      nullptr},
};

constexpr std::string_view envs = "Environments";
constexpr std::string_view running = "Running";
constexpr std::string_view drift = "Snapshots and drift";
constexpr std::string_view desktop = "Desktop integration";
constexpr std::string_view store = "Store and images";
constexpr std::string_view remote = "Sharing";
constexpr std::string_view setup = "Setup and help";

// The static front `karapace` (front.hpp) is built from this table with KARAPACE_FRONT: it names
// only the runners of the commands the front runs itself, so that the code of every other one
// stays out of the front, which hands those (no runner there) to karapace-full.
#ifdef KARAPACE_FRONT
constexpr Runner in_full(Runner) { return nullptr; }
#else
constexpr Runner in_full(Runner run) { return run; }
#endif

constexpr std::array command_table{
    CommandSpec{
        "new", envs, "Write a new karapace.toml from a template or by asking questions",
        "Writes ./karapace.toml for an environment called NAME. With --template the file "
        "is the template's commented text; without it, on a terminal, karapace asks for "
        "the base image, packages, a workspace mount and network isolation. An existing "
        "file is only replaced with --force (or after confirming on a terminal).",
        new_args, new_flags, Trailing::none, "",
        R"({"name": NAME, "path": "./karapace.toml", "template": TEMPLATE|null, "status": "written"})",
        in_full(run_new)},
    CommandSpec{"build", envs, "Build an environment from a manifest",
                "Resolves the manifest's base image and packages, builds the environment in the "
                "store and writes karapace.lock next to the manifest with the exact image digest "
                "and package versions. Building an unchanged manifest again is a fast no-op.",
                manifest_arg, build_flags, Trailing::none, "", "", in_full(run_build)},
    CommandSpec{"rebuild", envs, "Build a manifest again and replace the old environment",
                "Builds the environment anew and only then destroys the one it replaces; the "
                "name is carried over.",
                manifest_arg, build_flags, Trailing::none, "", "", in_full(run_rebuild)},
    CommandSpec{
        "upgrade",
        envs,
        "Build an environment anew with the newest image and packages",
        "Resolves everything again from the environment's manifest: an unpinned base "
        "image is fetched again (an alias gives its newest build), package versions are "
        "resolved instead of taken from the lock. Shows what changed (image digest, "
        "package versions), then replaces the environment as rebuild does: the old one "
        "stays until the new one is built. Writes the new karapace.lock. A pinned image "
        "stays as pinned: `karapace pin` it again to move it.",
        env_arg,
        {},
        Trailing::none,
        "",
        R"({"env_id": ID, "status": "upgraded"|"unchanged", "old_image_digest": DIGEST, "new_image_digest": DIGEST, "packages": [{"name": NAME, "from": VERSION|null, "to": VERSION|null}], ...})",
        in_full(run_upgrade)},
    CommandSpec{"pin", envs, "Pin base.image to a reference that always gives the same bytes",
                "Rewrites base.image in the manifest, in place and keeping comments, to its "
                "pinned form: an exact build URL with #sha256=, or a bootstrap suite with a "
                "snapshot timestamp. With --check nothing is written: the exit status says "
                "whether the image is already pinned (0) or not (1); 2 means the manifest is "
                "invalid.",
                manifest_arg, pin_flags, Trailing::none, "",
                R"({"manifest": PATH, "image": REFERENCE, "pinned": BOOL})", in_full(run_pin)},
    CommandSpec{"list",
                envs,
                "List the environments in the store",
                "Lists every environment with its short id, name and state.",
                {},
                {},
                Trailing::none,
                "",
                "",
                run_list},
    CommandSpec{"tui",
                envs,
                "Manage the environments in a full-screen terminal interface",
                "Lists the store's environments and follows changes other karapace commands "
                "make. Enter shows one in detail (state, base image, locked packages, layers and "
                "sizes, running sessions, snapshots and drift); keys enter a shell, stop, "
                "freeze, archive, rename, destroy (after asking), commit, restore a snapshot, "
                "export and unexport applications, rebuild from the manifest and run gc. `?` "
                "lists the keys, `q` quits. Needs a terminal; elsewhere use `karapace list`. "
                "Honours NO_COLOR; works in 80x24 and larger, in UTF-8 and ASCII terminals.",
                {},
                tui_flags,
                Trailing::none,
                "",
                "",
                in_full(run_tui)},
    CommandSpec{"inspect",
                envs,
                "Show an environment's state, layers, lock and sessions",
                "Shows the environment's metadata: state, layers and their sizes, a summary of "
                "its lock, running sessions and the resource-limit mechanism in force.",
                env_arg,
                {},
                Trailing::none,
                "",
                "",
                run_inspect},
    CommandSpec{"rename",
                envs,
                "Give an environment a new name",
                "Renames an environment. Names are unique within a store.",
                rename_args,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_rename)},
    CommandSpec{"destroy", envs, "Remove an environment",
                "Removes the environment and its writable layer. A running environment is "
                "refused unless --force, which stops it first. Shared layers stay until gc.",
                env_arg, destroy_flags, Trailing::none, "", "", in_full(run_destroy)},
    CommandSpec{"enter", running, "Open a shell (or run a command) inside an environment",
                "Starts an interactive login shell inside the environment as your own user, with "
                "your home directory and desktop sockets shared. Anything after -- is run "
                "instead of the shell. The exit status is the command's own.",
                env_arg, enter_flags, Trailing::optional, "CMD", "", run_enter},
    CommandSpec{"exec", running, "Run a command inside an environment",
                "Runs the command after -- inside the environment, streaming its output and "
                "passing stdin through. The exit status is the command's own; 125 means karapace "
                "failed before the command ran, 126 that it is not executable, 127 that it was "
                "not found. The sandbox stays ready for KARAPACE_LINGER seconds (default 60, 0 "
                "for none) after the command, with nothing running in it, and the next run joins "
                "it. karapace's own processes for the run ask for the shortest time slice (Linux "
                "6.12 and later), so a busy machine does not keep them waiting; the command keeps "
                "yours. KARAPACE_SHORT_SLICE=0 turns that off. While the machine has idle "
                "processors, a new sandbox is built on the one the run started on; the command "
                "runs on yours. KARAPACE_SAME_CPU=0 turns that off.",
                env_arg, exec_flags, Trailing::required, "CMD", "", run_exec},
    CommandSpec{"stop", running, "Stop every process running in an environment",
                "Sends SIGTERM to every session of the environment, then SIGKILL after the "
                "timeout; a sandbox lingering after an exec ends too.",
                env_arg, stop_flags, Trailing::none, "", "", run_stop},
    CommandSpec{"export", desktop, "Put an environment's applications in the host menu",
                "Writes a launcher to $XDG_DATA_HOME/applications for each application (found by "
                "its desktop-file id or executable name in the environment), with its icons, so "
                "the host's menu starts it inside the environment; with --bin, writes a wrapper "
                "script that runs the command inside the environment. Without applications or "
                "--bin, exports the manifest's [gui] apps and refreshes everything exported "
                "before. With --service NAME and a command after --, writes a systemd user unit "
                "that runs the command inside the environment (enable it with systemctl --user "
                "enable --now). Exporting again is harmless; build, rebuild and rename keep "
                "launchers and units up to date and destroy removes them.",
                export_args, export_flags, Trailing::optional, "CMD",
                R"({"env_id": ID, "env": NAME, "exported": [{"kind": "app"|"bin"|"service", )"
                R"("name": ID, "source": PATH, "files": [PATH, ...], services also "command": )"
                R"([ARG, ...], "type": "simple"|"notify", "restart": POLICY, "sockets": )"
                R"([ADDRESS, ...]}, ...], "warnings": [TEXT, ...]})",
                in_full(run_export)},
    CommandSpec{"unexport", desktop, "Remove exported launchers and command wrappers",
                "Removes the launchers, icons, wrappers and systemd units that export wrote for "
                "the named applications, commands and services, or all of them with --all. "
                "Files changed since are left in place.",
                export_args, unexport_flags, Trailing::none, "",
                R"({"env": ENV, "removed": [{"kind", "name", "source", "files"}, ...]})",
                in_full(run_unexport)},
    CommandSpec{"freeze",
                drift,
                "Make an environment read-only",
                "From now on the environment's files cannot be changed; it can still be entered.",
                env_arg,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_freeze)},
    CommandSpec{"archive",
                drift,
                "Keep an environment but forbid entering it",
                "An archived environment is kept (gc does not remove it) but cannot be entered "
                "until it is rebuilt.",
                env_arg,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_archive)},
    CommandSpec{"diff",
                drift,
                "Show files changed in an environment since it was built",
                "Lists files added, modified and deleted in the environment's writable layer "
                "compared with the layers below it.",
                env_arg,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_diff)},
    CommandSpec{"commit",
                drift,
                "Save the environment's changes as a snapshot",
                "Packs the writable layer into a snapshot layer and prints its id, which restore "
                "takes.",
                env_arg,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_commit)},
    CommandSpec{"snapshots",
                drift,
                "List an environment's snapshots",
                "Lists the snapshots of the environment with the ids restore takes.",
                env_arg,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_snapshots)},
    CommandSpec{"restore",
                drift,
                "Reset an environment's changes to a snapshot",
                "Replaces the environment's writable layer with the snapshot's content in one "
                "atomic step.",
                restore_args,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_restore)},
    CommandSpec{"gc",
                store,
                "Remove layers, objects and images nothing uses any more",
                "Removes layers, objects, unpacked layers and cached images that no environment "
                "(archived ones included) refers to, and leftovers of interrupted operations. "
                "Garbage younger than the grace period (--grace, default 15m) is kept and "
                "reported: a build, pull or commit running at the same time may not have "
                "recorded it yet. `--grace 0` removes it at once unless another operation is at "
                "work in the store.",
                {},
                gc_flags,
                Trailing::none,
                "",
                "",
                in_full(run_gc)},
    CommandSpec{"verify-store",
                store,
                "Check every object, layer and record in the store",
                "Re-hashes every object and layer and checks every metadata record and cached "
                "image. Exits with status 3 when anything fails.",
                {},
                {},
                Trailing::none,
                "",
                "",
                in_full(run_verify_store)},
    CommandSpec{"images",
                store,
                "List cached base images, or remove one with `images rm REF`",
                "Without arguments, lists the cached base images with their size and the "
                "environments using them. `karapace images rm REF` removes one from the cache.",
                images_args,
                {},
                Trailing::none,
                "",
                "",
                in_full(run_images)},
    CommandSpec{"migrate",
                store,
                "Examine (and with --apply, upgrade) an older store",
                "Reports the store's format and what it holds; a store written by an older "
                "Karapace is only changed with --apply. A format 3 store of a user with sub-ids "
                "has its files' owners turned around for format 4's id map (root inside is a "
                "sub-id, so sudo works); an interrupted run continues where it stopped.",
                {},
                migrate_flags,
                Trailing::none,
                "",
                "",
                in_full(run_migrate)},
    CommandSpec{"push", remote, "Publish an environment to an OCI registry",
                "Publishes the environment as an OCI image: its base image, packages layer and "
                "latest snapshot as layers, its lock and manifest in the image config. Layers "
                "the registry already holds are not sent again. Changes not committed with "
                "`karapace commit` are not pushed.",
                env_arg, push_flags, Trailing::none, "", "", in_full(run_push)},
    CommandSpec{"pull", remote, "Fetch an environment from an OCI registry",
                "Downloads an environment image pushed by `karapace push`, verifies every blob "
                "and the lock's environment id, and makes it a built environment that exec and "
                "enter can use at once. Pulling an environment that is already here does "
                "nothing.",
                pull_args, pull_flags, Trailing::none, "", "", in_full(run_pull)},
    CommandSpec{"login", remote, "Save a registry login for push and pull",
                "Checks the user name and password against the registry (a request that needs "
                "them, as podman login does), then saves them in the auth file podman uses: "
                "$REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else "
                "~/.config/containers/auth.json, mode 0600, keeping its other entries. The "
                "password is read from stdin with --password-stdin or asked for on the terminal "
                "without echo, never taken from the command line. Refused credentials are not "
                "saved.",
                login_args, login_flags, Trailing::none, "",
                R"({"registry": HOST, "username": USER, "auth_file": PATH, "verified": BOOL, )"
                R"("shadowed_by": PATH|null})",
                in_full(run_login)},
    CommandSpec{"logout", remote, "Remove a registry login",
                "Removes the registry's entry from the auth file login writes (with --all, every "
                "entry), and says where push and pull would still find credentials for it.",
                logout_args, logout_flags, Trailing::none, "",
                R"({"auth_file": PATH, "removed": [HOST, ...], "still_found_in": PATH|null})",
                in_full(run_logout)},
    CommandSpec{"doctor",
                setup,
                "Check that this machine can run environments",
                "Checks user namespaces, overlay support, the sub-id range and newuidmap, "
                "mmdebstrap, fuse-overlayfs, runc/crun, the resource-limit mechanism and the "
                "store's health, and prints the install command for anything missing.",
                {},
                {},
                Trailing::none,
                "",
                "",
                in_full(run_doctor)},
    CommandSpec{"completions",
                setup,
                "Print a shell completion script",
                "Prints a completion script for bash, zsh or fish on stdout. For example: "
                "karapace completions bash > ~/.local/share/bash-completion/completions/karapace",
                completions_args,
                {},
                Trailing::none,
                "",
                R"({"shell": SHELL, "script": TEXT})",
                run_completions},
    CommandSpec{"man-pages",
                setup,
                "Write the manual pages",
                "Writes karapace.1 and one karapace-COMMAND.1 page per command, in roff, to DIR.",
                man_pages_args,
                {},
                Trailing::none,
                "",
                R"({"dir": DIR, "pages": [FILE, ...]})",
                in_full(run_man_pages)},
    CommandSpec{"help",
                setup,
                "Show help for karapace or for one command",
                "Without a command, lists every command; with one, shows its arguments and "
                "options.",
                help_args,
                {},
                Trailing::none,
                "",
                "",
                run_help},
};

}  // namespace

std::span<const CommandSpec> commands() { return command_table; }
std::span<const FlagSpec> global_flags() { return global_flag_table; }

const CommandSpec* find_command(std::string_view name) {
    for (const auto& c : command_table)
        if (c.name == name) return &c;
    return nullptr;
}

std::vector<std::string> command_names() {
    std::vector<std::string> names;
    names.reserve(command_table.size());
    for (const auto& c : command_table)
        names.emplace_back(c.name);
    return names;
}

std::span<const ExitStatus> exit_statuses() {
    static constexpr std::array table{
        ExitStatus{0, "success"},
        ExitStatus{1, "failure (including a command not available in this build)"},
        ExitStatus{2, "invalid manifest or lock file"},
        ExitStatus{3, "store error (unreadable, corrupt, wrong format, failed verification)"},
        ExitStatus{64, "usage error: unknown command or option, missing or extra argument"},
    };
    return table;
}

std::string flag_label(const FlagSpec& flag) {
    std::string s;
    if (flag.short_name != 0) {
        s += '-';
        s += flag.short_name;
        s += ", ";
    }
    s += "--";
    s += flag.name;
    if (flag.kind != FlagKind::boolean) {
        s += ' ';
        s += flag.value_name;
    }
    return s;
}

std::string positional_label(const PositionalSpec& arg) {
    std::string s;
    for (char c : arg.name)
        s += static_cast<char>(c == '-' ? '_' : std::toupper(c));
    return s;
}

std::string usage_line(const CommandSpec& cmd) {
    std::string s = "karapace ";
    s += cmd.name;
    if (!cmd.flags.empty()) s += " [OPTIONS]";
    for (const auto& p : cmd.positionals) {
        const std::string name = positional_label(p) + (p.variadic ? "..." : "");
        s += ' ';
        s += p.required ? name : "[" + name + "]";
    }
    if (cmd.trailing == Trailing::required) s += " -- " + std::string(cmd.trailing_name) + "...";
    if (cmd.trailing == Trailing::optional) s += " [-- " + std::string(cmd.trailing_name) + "...]";
    return s;
}

}  // namespace karapace::cli
