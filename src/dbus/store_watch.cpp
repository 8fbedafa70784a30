#include "store_watch.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "karapace/util/log.hpp"

namespace karapace::dbus {

namespace {

constexpr std::uint32_t gone_self = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT;
constexpr std::uint32_t entries = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
constexpr std::uint32_t self = IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;
// Records are replaced by rename (IN_MOVED_TO), but one written in place or made unreadable
// must not go unnoticed either.
constexpr std::uint32_t metadata_mask = entries | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | self;
constexpr std::uint32_t dir_mask = entries | self;

// Temporary files of atomic writes (util/atomic_file): renamed into place when complete.
bool temporary(const std::string& name) { return name.starts_with(".tmp"); }

}  // namespace

StoreWatch::StoreWatch(const std::string& store_root)
    : layout_(store_root), fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (!fd_)
        log::warn("cannot watch the store for changes (inotify: ", std::strerror(errno),
                  "); ListEnvironments reads every record on each call");
}

int StoreWatch::add(const std::string& path, std::uint32_t mask, Target target) {
    int wd = ::inotify_add_watch(fd_.get(), path.c_str(), mask);
    if (wd >= 0) targets_[wd] = std::move(target);
    return wd;
}

bool StoreWatch::refused(const std::string& path) {
    // An absent directory is watched for by its parent; anything else (the watch limit, no
    // memory, no permission) means changes there would go unseen.
    if (errno == ENOENT || errno == ENOTDIR) return false;
    if (!warned_) {
        warned_ = true;
        log::warn("cannot watch ", path, " for changes (", std::strerror(errno),
                  "): ListEnvironments reads what it cannot watch on every call",
                  errno == ENOSPC ? "; raise the limit: sysctl fs.inotify.max_user_watches" : "");
    }
    return true;
}

void StoreWatch::remove(int wd) {
    if (wd < 0) return;
    ::inotify_rm_watch(fd_.get(), wd);  // EINVAL when the kernel dropped it already: fine
    targets_.erase(wd);
}

void StoreWatch::forget(int wd) {
    auto it = targets_.find(wd);
    if (it == targets_.end()) return;
    if (auto env = envs_.find(it->second.env_id); env != envs_.end()) {
        if (env->second.env == wd) env->second.env = -1;
        if (env->second.sessions == wd) env->second.sessions = -1;
    }
    targets_.erase(it);
}

void StoreWatch::unwatch_all() {
    for (const auto& [wd, target] : targets_)
        ::inotify_rm_watch(fd_.get(), wd);
    targets_.clear();
    envs_.clear();
    watching_ = false;
}

bool StoreWatch::watch_store() {
    std::lock_guard lock(mutex_);
    read_events();  // about watches that are about to go
    unwatch_all();
    pending_ = {};
    if (!fd_) return false;
    const auto& root = layout_.root();
    // The store root reports metadata/ or env/ appearing, going or being replaced.
    if (add(root, dir_mask, {Kind::root, {}}) < 0) {
        refused(root);
        return false;
    }
    if (add(layout_.metadata_dir(), metadata_mask, {Kind::metadata, {}}) < 0) {
        refused(layout_.metadata_dir());
        unwatch_all();
        return false;
    }
    if (add(layout_.envs_dir(), dir_mask, {Kind::envs, {}}) < 0 && refused(layout_.envs_dir())) {
        unwatch_all();
        return false;
    }
    // The engine lists nothing without a store version; once watched, a store made after this
    // look is seen through the watches.
    struct stat root_st {
    }, metadata_st{}, version_st{};
    if (::stat(root.c_str(), &root_st) != 0 ||
        ::stat(layout_.metadata_dir().c_str(), &metadata_st) != 0 ||
        ::stat(layout_.version_file().c_str(), &version_st) != 0) {
        unwatch_all();
        return false;
    }
    root_id_ = {root_st.st_dev, root_st.st_ino};
    metadata_id_ = {metadata_st.st_dev, metadata_st.st_ino};
    watching_ = true;
    return true;
}

bool StoreWatch::watch_env(const std::string& env_id) {
    std::lock_guard lock(mutex_);
    if (!watching_) return false;
    auto id = store::EnvId::from_hex(env_id);
    if (!id) return false;
    auto& watches = envs_[env_id];
    auto env_dir = layout_.env_dir(*id);
    auto sessions_dir = layout_.sessions_dir(*id);
    bool ok = true;
    // The environment's directory reports sessions/ appearing; the envs directory, the
    // environment's directory itself.
    int env_wd = add(env_dir, dir_mask, {Kind::env, env_id});
    if (env_wd < 0 && refused(env_dir)) ok = false;
    // Session records are symlinks, made and removed whole: no writes to watch for (and a
    // session's end is not always written down: list() checks live sessions on every call).
    int sessions_wd = add(sessions_dir, dir_mask, {Kind::sessions, env_id});
    if (sessions_wd < 0 && refused(sessions_dir)) ok = false;
    // A directory replaced since the last look: the old one's watch goes.
    if (watches.env != env_wd) remove(watches.env);
    if (watches.sessions != sessions_wd) remove(watches.sessions);
    watches = {env_wd, sessions_wd};
    return ok;
}

void StoreWatch::unwatch_env(const std::string& env_id) {
    std::lock_guard lock(mutex_);
    auto it = envs_.find(env_id);
    if (it == envs_.end()) return;
    remove(it->second.env);
    remove(it->second.sessions);
    envs_.erase(it);
}

StoreChanges StoreWatch::take() {
    std::lock_guard lock(mutex_);
    read_events();
    if (watching_ && !same_store()) pending_.store_lost = true;
    if (pending_.store_lost) watching_ = false;
    return std::exchange(pending_, {});
}

void StoreWatch::drain() {
    std::lock_guard lock(mutex_);
    read_events();
}

bool StoreWatch::same_store() const {
    struct stat root_st {
    }, metadata_st{};
    if (::stat(layout_.root().c_str(), &root_st) != 0 ||
        ::stat(layout_.metadata_dir().c_str(), &metadata_st) != 0)
        return false;
    return DirId{root_st.st_dev, root_st.st_ino} == root_id_ &&
           DirId{metadata_st.st_dev, metadata_st.st_ino} == metadata_id_;
}

void StoreWatch::read_events() {
    if (!fd_) return;
    alignas(inotify_event) char buf[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // EAGAIN: nothing more
        for (char* p = buf; p < buf + n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(p);
            on_event(ev->wd, ev->mask, ev->len ? std::string(ev->name) : std::string());
            p += sizeof(inotify_event) + ev->len;
        }
    }
}

void StoreWatch::on_event(int wd, std::uint32_t mask, const std::string& name) {
    if (mask & IN_Q_OVERFLOW) {
        // Events were dropped: which records changed is unknown.
        pending_.everything = true;
        return;
    }
    auto it = targets_.find(wd);
    if (it == targets_.end()) return;  // a watch removed since
    const Target target = it->second;
    const bool self_gone = (mask & gone_self) != 0;
    switch (target.kind) {
    case Kind::root:
        if (self_gone || name == "metadata" || name == "env" || name == "store")
            pending_.store_lost = true;
        break;
    case Kind::metadata:
        if (self_gone)
            pending_.store_lost = true;
        else if (auto id = env_id_of_record_file(name))
            pending_.envs.insert(*id);
        else if (!temporary(name))
            pending_.everything = true;  // a stray file came or went: list() reports those
        break;
    case Kind::envs:
        if (self_gone)
            pending_.store_lost = true;
        else if (schema::EnvId::valid(name))
            pending_.envs.insert(name);
        break;
    case Kind::env:
    case Kind::sessions:
        if (self_gone || target.kind == Kind::sessions || name == "sessions")
            pending_.envs.insert(target.env_id);
        if (mask & IN_IGNORED) forget(wd);
        break;
    }
}

}  // namespace karapace::dbus
