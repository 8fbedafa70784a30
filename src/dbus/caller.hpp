// Who may drive the service: the session bus already admits only its owner, and the service
// also refuses callers of another uid, because it reads manifests and runs commands with the
// rights of the user it runs as, and its properties describe that user's jobs and store.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IObject.h>
#include <sdbus-c++/IProxy.h>

namespace karapace::dbus {

// The uid of a message's sender as the bus daemon has it: the credentials of the sender's socket
// when it connected (GetConnectionUnixUser), not what /proc says of a process id now, which may
// be another process's by then. A unique bus name is never given to another connection while the
// bus runs, so the answer is kept per name: a client that calls again costs no question to the
// daemon. On a connection without a bus daemon (no sender), the peer's socket credentials.
class SenderUids {
public:
    explicit SenderUids(sdbus::IConnection& connection);
    SenderUids(const SenderUids&) = delete;
    SenderUids& operator=(const SenderUids&) = delete;

    // Throws sdbus::Error when the uid cannot be told.
    uid_t of(const sdbus::Message& message);

private:
    std::unique_ptr<sdbus::IProxy> bus_;
    std::unordered_map<std::string, uid_t> known_;  // by unique name
};

// The same-user check, for method calls and for property reads. sd-bus answers
// org.freedesktop.DBus.Properties itself and sdbus-c++ shows a property getter no message, so a
// match on that interface, which sd-bus runs first for the same message on the loop thread,
// notes who sent it; the getters check the note. The loop forgets it after every message, so
// getters that sd-bus calls to fill our own PropertiesChanged signals (no call being answered)
// are not checked.
class PropertyReaders {
public:
    explicit PropertyReaders(sdbus::IConnection& connection);
    PropertyReaders(const PropertyReaders&) = delete;
    PropertyReaders& operator=(const PropertyReaders&) = delete;

    // In a method handler: throws org.karapace.Error.PermissionDenied unless the sender of the
    // message `object` is processing has our effective uid.
    void require_same_user(const sdbus::IObject& object) const;
    // In a getter: throws PermissionDenied when the Properties call being answered is not ours.
    void require_same_user() const;
    // Called by the loop after each message it dispatched.
    void message_done() noexcept;

private:
    void note(sdbus::Message& message) noexcept;

    mutable SenderUids uids_;  // used on the loop thread only
    sdbus::Slot match_;
    bool answering_ = false;
    std::optional<uid_t> caller_;  // unset while answering: the sender's uid could not be read
    std::string why_unknown_;
};

}  // namespace karapace::dbus
