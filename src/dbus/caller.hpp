// Who may drive the service: the session bus already admits only its owner, and the service
// also refuses callers of another uid, because it reads manifests and runs commands with the
// rights of the user it runs as, and its properties describe that user's jobs and store.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IObject.h>

namespace karapace::dbus {

// Throws org.karapace.Error.PermissionDenied unless the sender of the message `object` is
// processing has our effective uid.
void require_same_user(const sdbus::IObject& object);

// The same check for property reads. sd-bus answers org.freedesktop.DBus.Properties itself and
// sdbus-c++ shows a property getter no message, so a match on that interface, which sd-bus runs
// first for the same message on the loop thread, notes who sent it; the getters check the note.
// The loop forgets it after every message, so getters that sd-bus calls to fill our own
// PropertiesChanged signals (no call being answered) are not checked.
class PropertyReaders {
public:
    explicit PropertyReaders(sdbus::IConnection& connection);
    PropertyReaders(const PropertyReaders&) = delete;
    PropertyReaders& operator=(const PropertyReaders&) = delete;

    // In a getter: throws PermissionDenied when the Properties call being answered is not ours.
    void require_same_user() const;
    // Called by the loop after each message it dispatched.
    void message_done() noexcept;

private:
    void note(sdbus::Message& message) noexcept;

    sdbus::Slot match_;
    bool answering_ = false;
    std::optional<uid_t> caller_;  // unset while answering: the sender's uid could not be read
    std::string why_unknown_;
};

}  // namespace karapace::dbus
