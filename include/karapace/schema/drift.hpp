// Manifest-versus-lock drift: every way the manifest now differs from the settings its lock file
// was made from, each as one sentence, so `build --locked` and `pin` can list them all at once.
#pragma once

#include <string>
#include <vector>

#include "karapace/schema/lock.hpp"
#include "karapace/schema/normalize.hpp"

namespace karapace::schema {

struct Difference {
    std::string key;      // the manifest key that differs: "base.image", "system.packages",
                          // "mounts.workspace", "runtime.resource_limits.cpu_shares", ...
    std::string message;  // a sentence for people

    friend bool operator==(const Difference&, const Difference&) = default;
};

// Empty when the manifest and the lock agree. One entry per added or removed package, app or
// mount, and one per changed setting.
std::vector<Difference> manifest_lock_drift(const NormalizedManifest& manifest,
                                            const LockFile& lock);

}  // namespace karapace::schema
