// Desktop notifications for finished jobs, through org.freedesktop.Notifications on the same
// bus: "build of web finished", or "... failed" with the error's first line. Sent only when a
// notification server owns that name (never activates one), without waiting for its answer.
// Loop thread only.
#pragma once

#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

namespace karapace::dbus {

struct JobNotice {
    std::string kind;     // build, push, ...
    std::string subject;  // the environment's name or short id, or what the job was given
    bool succeeded = false;
    bool cancelled = false;
    std::string error_message;  // when it failed
};

// The notification's summary and body.
std::pair<std::string, std::string> notice_text(const JobNotice& notice);

class DesktopNotifier {
public:
    explicit DesktopNotifier(sdbus::IConnection& connection);
    ~DesktopNotifier();
    void job_finished(const JobNotice& notice);

private:
    std::unique_ptr<sdbus::IProxy> bus_, notifications_;
};

}  // namespace karapace::dbus
