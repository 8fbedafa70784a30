#include "karapace/util/error.hpp"

#include <cerrno>
#include <cstring>

namespace karapace {

Error::Error(Errc code, std::string message, std::string hint)
    : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)) {}

int exit_code(Errc code) noexcept {
    switch (code) {
    case Errc::usage: return 64;
    case Errc::manifest: return 2;
    case Errc::store: return 3;
    default: return 1;
    }
}

std::string_view dbus_error_name(Errc code) noexcept {
    switch (code) {
    case Errc::not_found: return "org.karapace.Error.NotFound";
    case Errc::manifest: return "org.karapace.Error.InvalidManifest";
    case Errc::usage: return "org.karapace.Error.InvalidArgs";
    case Errc::conflict: return "org.karapace.Error.Conflict";
    case Errc::busy: return "org.karapace.Error.Busy";
    case Errc::store: return "org.karapace.Error.StoreCorrupt";
    case Errc::permission: return "org.karapace.Error.PermissionDenied";
    case Errc::cancelled: return "org.karapace.Error.Cancelled";
    case Errc::remote: return "org.karapace.Error.Remote";
    default: return "org.karapace.Error.Failed";
    }
}

std::string_view errc_name(Errc code) noexcept {
    switch (code) {
    case Errc::failed: return "failed";
    case Errc::usage: return "usage";
    case Errc::manifest: return "manifest";
    case Errc::store: return "store";
    case Errc::not_found: return "not-found";
    case Errc::conflict: return "conflict";
    case Errc::busy: return "busy";
    case Errc::permission: return "permission";
    case Errc::runtime: return "runtime";
    case Errc::image: return "image";
    case Errc::remote: return "remote";
    case Errc::cancelled: return "cancelled";
    case Errc::unavailable: return "unavailable";
    }
    return "failed";
}

void throw_errno(Errc fallback, const std::string& what, int err) {
    Errc code = fallback;
    std::string hint;
    switch (err) {
    case EACCES:
    case EPERM: code = Errc::permission; break;
    case ENOENT: code = fallback == Errc::failed ? Errc::not_found : fallback; break;
    case ENOSPC:
    case EDQUOT: hint = "free some disk space and try again"; break;
    default: break;
    }
    throw Error(code, what + ": " + std::strerror(err), hint);
}

void throw_errno(Errc fallback, const std::string& what) { throw_errno(fallback, what, errno); }

}  // namespace karapace
