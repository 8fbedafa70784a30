// Watches a store with inotify for what changes ListEnvironments' answer: records appearing,
// changing or going in `metadata/`, an environment's directory and its `sessions/` (a session
// starting or ending). names/ is not watched: the answer takes names from the verified records.
// The bus loop drains the events as they come (drain()), so the kernel's queue does not fill
// while no one lists; a queue that overflowed anyway, a watch the kernel refuses (the per-user
// limit) or a store directory replaced under it is reported, and the cache reads everything again.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <unordered_map>

#include "env_list_cache.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::dbus {

class StoreWatch final : public ChangeSource {
public:
    // Without an inotify instance (the kernel refused one) nothing is ever watched.
    explicit StoreWatch(const std::string& store_root);

    // For the bus loop's poll; -1 without an inotify instance.
    int fd() const noexcept { return fd_.get(); }
    // Reads the events that are waiting; never blocks.
    void drain();

    bool watch_store() override;
    bool watch_env(const std::string& env_id) override;
    void unwatch_env(const std::string& env_id) override;
    StoreChanges take() override;

private:
    enum class Kind { root, metadata, envs, env, sessions };
    struct Target {
        Kind kind;
        std::string env_id;
    };
    struct EnvWatches {
        int env = -1;
        int sessions = -1;
    };
    struct DirId {
        dev_t dev = 0;
        ino_t ino = 0;
        friend bool operator==(const DirId&, const DirId&) = default;
    };

    // The watch descriptor, or -1 with errno set.
    int add(const std::string& path, std::uint32_t mask, Target target);
    bool refused(const std::string& path);  // after add() failed: true unless the path is absent
    void remove(int wd);
    void forget(int wd);
    void unwatch_all();
    void read_events();
    void on_event(int wd, std::uint32_t mask, const std::string& name);
    bool same_store() const;

    store::Layout layout_;
    UniqueFd fd_;
    std::mutex mutex_;
    std::unordered_map<int, Target> targets_;
    std::unordered_map<std::string, EnvWatches> envs_;
    StoreChanges pending_;
    bool watching_ = false;
    bool warned_ = false;
    DirId root_id_, metadata_id_;
};

}  // namespace karapace::dbus
