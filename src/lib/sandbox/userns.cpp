#include "karapace/sandbox/userns.hpp"

#include <grp.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <exception>

#include "karapace/sandbox/idmap.hpp"
#include "karapace/util/error.hpp"
#include "sandbox/child.hpp"
#include "sandbox/wire.hpp"

namespace karapace::sandbox {

int run_in_userns(const std::function<int()>& fn, IdMapping mapping) {
    auto plan = plan_id_maps_for_caller(mapping);
    Pipe go, errors;
    pid_t pid = clone_process(CLONE_NEWUSER | CLONE_NEWNS);
    if (pid == 0) {
        go.write.reset();
        errors.read.reset();
        if (!wait_for_byte(go.read.get())) ::_exit(125);
        int status = 125;
        try {
            // Supplementary groups of the host would show up as the overflow group.
            // The raw system call: glibc's setgroups() synchronises with every thread it believes
            // exists, and a child cloned from a threaded process would wait for them forever.
            if (!plan.deny_setgroups) ::syscall(SYS_setgroups, 0, nullptr);
            become_inner_ids(plan);
            status = fn();
        } catch (const Error& e) {
            wire::send_error(errors.write.get(), e);
        } catch (const std::exception& e) {
            wire::send_error(errors.write.get(), Error(Errc::failed, e.what()));
        } catch (...) {
            wire::send_error(errors.write.get(), Error(Errc::failed, "unknown exception"));
        }
        ::_exit(status & 0xff);
    }
    go.read.reset();
    errors.write.reset();
    try {
        write_id_maps(pid, plan);
    } catch (...) {
        go.write.reset();  // the child sees end of file and exits
        wait_exit_status(pid);
        throw;
    }
    send_byte(go.write.get());
    go.write.reset();
    auto error = wire::receive_error(errors.read.get());
    int status = wait_exit_status(pid);
    if (error) throw *error;
    return status;
}

}  // namespace karapace::sandbox
