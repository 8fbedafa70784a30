#include "caller.hpp"

#include <unistd.h>

#include <cstdint>
#include <string>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>

#include "karapace/util/error.hpp"

namespace karapace::dbus {

namespace {

const std::string& denied_name() {
    static const std::string name(dbus_error_name(Errc::permission));
    return name;
}

void require_uid(uid_t caller) {
    if (caller != ::geteuid()) {
        throw sdbus::Error(denied_name(), "karapace-dbus of uid " + std::to_string(::geteuid()) +
                                              " serves only its own user, not uid " +
                                              std::to_string(caller));
    }
}

// Names kept before the table starts again: a desktop's clients, and more, stay in it.
constexpr std::size_t kKeptSenders = 256;

}  // namespace

SenderUids::SenderUids(sdbus::IConnection& connection)
    : bus_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")) {}

uid_t SenderUids::of(const sdbus::Message& message) {
    std::string sender = message.getSender();
    if (sender.empty()) return message.getCredsUid();
    if (auto it = known_.find(sender); it != known_.end()) return it->second;
    std::uint32_t uid = 0;
    bus_->callMethod("GetConnectionUnixUser")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .storeResultsTo(uid);
    if (known_.size() >= kKeptSenders) known_.clear();
    known_.emplace(std::move(sender), static_cast<uid_t>(uid));
    return static_cast<uid_t>(uid);
}

PropertyReaders::PropertyReaders(sdbus::IConnection& connection)
    : uids_(connection),
      match_(connection.addMatch("type='method_call',interface='org.freedesktop.DBus.Properties'",
                                 [this](sdbus::Message& message) { note(message); })) {}

void PropertyReaders::require_same_user(const sdbus::IObject& object) const {
    const sdbus::Message* message = object.getCurrentlyProcessedMessage();
    if (message == nullptr) return;  // not inside a handler: nothing to check
    uid_t caller = 0;
    try {
        caller = uids_.of(*message);
    } catch (const sdbus::Error& e) {
        throw sdbus::Error(denied_name(), "cannot tell which user is calling: " + e.getMessage());
    }
    require_uid(caller);
}

void PropertyReaders::note(sdbus::Message& message) noexcept {
    answering_ = true;
    caller_.reset();
    why_unknown_.clear();
    try {
        caller_ = uids_.of(message);
    } catch (const sdbus::Error& e) {
        why_unknown_ = e.getMessage();
    } catch (...) {
        why_unknown_ = "unknown error";
    }
}

void PropertyReaders::message_done() noexcept {
    answering_ = false;
    caller_.reset();
    why_unknown_.clear();
}

void PropertyReaders::require_same_user() const {
    if (!answering_) return;  // filling a PropertiesChanged signal of ours
    if (!caller_)
        throw sdbus::Error(denied_name(), "cannot tell which user is reading: " + why_unknown_);
    require_uid(*caller_);
}

}  // namespace karapace::dbus
