#include "tui/store_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <string_view>

#include "karapace/store/layout.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::tui {

namespace {
constexpr std::uint32_t dir_events =
    IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE_SELF;
// A session's record appears, goes, or is renamed to ".ending-<pid>" when its run returns.
constexpr std::uint32_t kSessionEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM;
}  // namespace

StoreWatch::StoreWatch(std::string store_root)
    : root_(std::move(store_root)), fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (!fd_) throw_errno(Errc::failed, "cannot watch the store " + root_ + " (inotify)");
    watch_metadata();
}

void StoreWatch::watch_metadata() {
    std::string dir = store::Layout(root_).metadata_dir();
    if (::inotify_add_watch(fd_.get(), dir.c_str(), dir_events) >= 0) {
        metadata_watched_ = true;
        return;
    }
    // No store yet: watch the closest directory that exists until the metadata directory does.
    while (dir.size() > 1) {
        auto slash = dir.rfind('/');
        dir = slash == 0 ? "/" : dir.substr(0, slash);
        if (::inotify_add_watch(fd_.get(), dir.c_str(), IN_CREATE | IN_MOVED_TO) >= 0) return;
    }
}

bool StoreWatch::drain() {
    alignas(inotify_event) char buf[16384];
    bool changed = false;
    ssize_t n;
    while ((n = ::read(fd_.get(), buf, sizeof buf)) > 0) {
        changed = true;
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            if (ev->mask & IN_Q_OVERFLOW) log::debug("store watch: events were dropped");
            auto dir = env_dirs_.find(ev->wd);
            if (ev->len > 0 && dir != env_dirs_.end() && std::string_view(ev->name) == "sessions")
                ::inotify_add_watch(fd_.get(), (dir->second + "/sessions").c_str(), kSessionEvents);
            p += sizeof(inotify_event) + ev->len;
        }
    }
    if (changed && !metadata_watched_) watch_metadata();
    return changed;
}

void StoreWatch::watch_sessions(const std::vector<std::string>& env_ids) {
    store::Layout layout(root_);
    for (const auto& id : env_ids) {
        if (session_envs_.contains(id)) continue;
        auto env_dir = layout.envs_dir() + "/" + id;
        // The sessions directory appears with the first run; its parent says when.
        int wd = ::inotify_add_watch(fd_.get(), env_dir.c_str(), IN_CREATE);
        if (wd < 0) continue;
        ::inotify_add_watch(fd_.get(), (env_dir + "/sessions").c_str(), kSessionEvents);
        session_envs_.insert(id);
        env_dirs_[wd] = env_dir;
    }
}

}  // namespace karapace::tui
