#include "notifier.hpp"

#include "karapace/util/log.hpp"

namespace karapace::dbus {

namespace {

constexpr const char* notifications_name = "org.freedesktop.Notifications";

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::pair<std::string, std::string> notice_text(const JobNotice& n) {
    std::string what = n.kind + " of " + n.subject;
    if (n.succeeded) return {"Karapace: " + what + " finished", ""};
    if (n.cancelled) return {"Karapace: " + what + " cancelled", ""};
    return {"Karapace: " + what + " failed", first_line(n.error_message)};
}

DesktopNotifier::DesktopNotifier(sdbus::IConnection& connection)
    : bus_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
      notifications_(
          sdbus::createProxy(connection, notifications_name, "/org/freedesktop/Notifications")) {
    bus_->finishRegistration();
    notifications_->finishRegistration();
}

DesktopNotifier::~DesktopNotifier() = default;

void DesktopNotifier::job_finished(const JobNotice& notice) {
    auto [summary, body] = notice_text(notice);
    auto* notifications = notifications_.get();
    // Asked first, so that a session without a notification server does not get one started
    // for every job.
    bus_->callMethodAsync("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(std::string(notifications_name))
        .uponReplyInvoke([notifications, summary = summary, body = body](const sdbus::Error* error,
                                                                         bool has_owner) {
            if (error || !has_owner) return;
            notifications->callMethodAsync("Notify")
                .onInterface(notifications_name)
                .withArguments(std::string("Karapace"), std::uint32_t{0}, std::string(), summary,
                               body, std::vector<std::string>{},
                               std::map<std::string, sdbus::Variant>{}, std::int32_t{-1})
                .uponReplyInvoke([](const sdbus::Error* error, std::uint32_t) {
                    if (error) log::warn("desktop notification not shown: ", error->getMessage());
                });
        });
}

}  // namespace karapace::dbus
