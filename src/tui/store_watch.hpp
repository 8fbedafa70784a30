// Notices changes other processes make to the store, without reading the store in a loop: inotify
// on the metadata directory (an environment built, destroyed, renamed, frozen or archived) and on
// each environment's sessions directory (a session started or ended, so "running" shows). Before
// the store exists, the nearest existing directory above the metadata directory is watched.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "karapace/util/fd.hpp"

namespace karapace::tui {

class StoreWatch {
public:
    explicit StoreWatch(std::string store_root);

    // Readable when something changed.
    int fd() const noexcept { return fd_.get(); }
    // Reads the pending events; true when the environment list may have changed.
    bool drain();
    // Watches the sessions of these environments too (ids already watched are skipped).
    void watch_sessions(const std::vector<std::string>& env_ids);

private:
    void watch_metadata();

    std::string root_;
    UniqueFd fd_;
    bool metadata_watched_ = false;
    std::set<std::string> session_envs_;
    std::map<int, std::string> env_dirs_;  // watch descriptor -> environment directory
};

}  // namespace karapace::tui
