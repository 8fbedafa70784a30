// Running a piece of our own code inside a new user + mount namespace, for the layers that must
// create or remove files owned by container ids (image extraction, store removal): the code runs
// in a forked child with the chosen id mapping, and its karapace::Error reaches the caller intact.
#pragma once

#include <functional>
#include <string>

namespace karapace::sandbox {

enum class IdMapping {
    container_root,  // build: container root is the caller, 1.. are the caller's sub-ids
    keep_id,         // enter/exec: the caller keeps its own uid/gid inside, others are sub-ids
};

// Runs `fn` in a forked child inside a new user and mount namespace with `mapping` (as real root:
// the identity map of the whole id range) and returns its exit status (the value `fn` returned,
// or 128 + signal). A karapace::Error thrown inside `fn` is rethrown here with the same category,
// message and hint; any other exception becomes Errc::failed. The child is a fork of a possibly
// multi-threaded process: `fn` must not rely on locks held by other threads.
int run_in_userns(const std::function<int()>& fn, IdMapping mapping);

// Runs `fn` as container root: directly when the caller is root, else through run_in_userns;
// a non-zero status is Error(runtime) saying that `what` stopped with it.
void run_as_container_root(const std::function<void()>& fn, const std::string& what);

}  // namespace karapace::sandbox
