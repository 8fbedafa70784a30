#include "caller.hpp"

#include <unistd.h>

#include <string>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>

#include "karapace/util/error.hpp"

namespace karapace::dbus {

void require_same_user(const sdbus::IObject& object) {
    const sdbus::Message* message = object.getCurrentlyProcessedMessage();
    if (message == nullptr) return;  // not inside a handler: nothing to check
    const std::string denied(dbus_error_name(Errc::permission));
    uid_t caller = 0;
    try {
        caller = message->getCredsUid();
    } catch (const sdbus::Error& e) {
        throw sdbus::Error(denied, "cannot tell which user is calling: " + e.getMessage());
    }
    if (caller != ::geteuid()) {
        throw sdbus::Error(denied, "karapace-dbus of uid " + std::to_string(::geteuid()) +
                                       " serves only its own user, not uid " +
                                       std::to_string(caller));
    }
}

}  // namespace karapace::dbus
