// The one error type of libkarapace. Every failure carries a category that decides the CLI exit
// code and the D-Bus error name, a message that names the object, and a hint with the next step.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace karapace {

enum class Errc {
    failed,       // anything without a more precise category (exit 1)
    usage,        // bad command line (exit 64)
    manifest,     // invalid manifest or lock file (exit 2)
    store,        // store unreadable, corrupt or of the wrong format (exit 3)
    not_found,    // an environment, snapshot, image or file that does not exist
    conflict,     // the object is in a state that forbids the operation
    busy,         // a lock could not be taken in time
    permission,   // the kernel or the policy said no
    runtime,      // the sandbox could not be set up
    image,        // an image could not be resolved, fetched or verified
    remote,       // a registry or server failed
    cancelled,    // interrupted by a signal or a D-Bus Cancel()
    unavailable,  // the feature is not in this build yet
};

class Error : public std::runtime_error {
public:
    Error(Errc code, std::string message, std::string hint = {});

    Errc code() const noexcept { return code_; }
    // What the user can do about it; may be empty.
    const std::string& hint() const noexcept { return hint_; }

private:
    Errc code_;
    std::string hint_;
};

// Exit code of the `karapace` CLI for an error category (DESIGN §9).
int exit_code(Errc code) noexcept;
// `org.karapace.Error.*` name for an error category.
std::string_view dbus_error_name(Errc code) noexcept;
// Short lower-case name of the category ("manifest", "store", ...), used in JSON error reports.
std::string_view errc_name(Errc code) noexcept;

// An Error built from errno: "<what>: <strerror(err)>". EACCES/EPERM map to Errc::permission,
// ENOENT to Errc::not_found, ENOSPC/EDQUOT keep `fallback` but say the disk is full.
[[noreturn]] void throw_errno(Errc fallback, const std::string& what, int err);
[[noreturn]] void throw_errno(Errc fallback, const std::string& what);

}  // namespace karapace
