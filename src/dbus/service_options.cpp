#include "service_options.hpp"

#include <charconv>
#include <string_view>

#include "karapace/util/error.hpp"

namespace karapace::dbus {

namespace {

std::chrono::seconds parse_seconds(std::string_view text, std::string_view what) {
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    // A day is far beyond any sensible idle period; larger values are probably a typo.
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 86400) {
        throw Error(Errc::usage,
                    std::string(what) + ": '" + std::string(text) + "' is not a number of seconds",
                    "give whole seconds from 0 (never exit) to 86400");
    }
    return std::chrono::seconds(value);
}

std::size_t parse_bytes(std::string_view text, std::string_view what) {
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
        value > 64u * 1024 * 1024) {
        throw Error(Errc::usage, std::string(what) + ": '" + std::string(text) + "' is not a size",
                    "give a byte count from 1 to 67108864");
    }
    return value;
}

}  // namespace

ServiceOptions parse_service_options(const std::vector<std::string>& args,
                                     std::optional<std::string> env_idle_timeout) {
    ServiceOptions options;
    if (env_idle_timeout && !env_idle_timeout->empty()) {
        options.idle_timeout = parse_seconds(*env_idle_timeout, "KARAPACE_DBUS_IDLE_TIMEOUT");
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view name = arg;
        std::optional<std::string> inline_value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            inline_value = std::string(arg.substr(eq + 1));
        }
        auto value = [&]() -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= args.size()) {
                throw Error(Errc::usage, std::string(name) + " needs a value",
                            "see karapace-dbus --help");
            }
            return args[++i];
        };
        if (name == "--help" || name == "-h") {
            options.help = true;
        } else if (name == "--version") {
            options.version = true;
        } else if (name == "--store") {
            options.store_root = value();
            if (options.store_root.empty()) {
                throw Error(Errc::usage, "--store needs a non-empty path",
                            "see karapace-dbus --help");
            }
        } else if (name == "--idle-timeout") {
            options.idle_timeout = parse_seconds(value(), "--idle-timeout");
        } else if (name == "--address") {
            options.bus_address = value();
        } else if (name == "--exec-output-cap") {
            options.exec_output_cap = parse_bytes(value(), "--exec-output-cap");
        } else {
            throw Error(Errc::usage, "unknown argument '" + std::string(arg) + "'",
                        "see karapace-dbus --help");
        }
    }
    return options;
}

std::string service_usage() {
    return "Usage: karapace-dbus [OPTIONS]\n"
           "The org.karapace.Manager1 session service; normally started by D-Bus activation.\n"
           "\n"
           "  --store PATH             store root (default: $KARAPACE_STORE, else\n"
           "                           $XDG_DATA_HOME/karapace)\n"
           "  --idle-timeout SECONDS   exit after this long with no calls and no jobs\n"
           "                           (default: $KARAPACE_DBUS_IDLE_TIMEOUT, else 60; 0 never)\n"
           "  --address ADDRESS        connect to this bus instead of the session bus\n"
           "  --exec-output-cap BYTES  output kept from each stream of Exec (default 4194304)\n"
           "  --version                print the version and exit\n"
           "  -h, --help               print this help and exit\n";
}

}  // namespace karapace::dbus
