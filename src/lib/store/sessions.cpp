#include "karapace/store/sessions.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/time.hpp"
#include "store/fsutil.hpp"

namespace karapace::store {

namespace bj = boost::json;

bj::object to_json(const Session& s) {
    bj::object o;
    o["pid"] = s.pid;
    o["start_time"] = s.start_time;
    o["started"] = s.started;
    o["alive"] = s.alive;
    return o;
}

Session register_session(const Layout& layout, const EnvId& id, int pid) {
    if (pid <= 0) pid = static_cast<int>(::getpid());
    auto start = process_start_time(pid);
    if (!start)
        throw Error(Errc::failed,
                    "cannot register session " + std::to_string(pid) + ": no such process");
    Session s{pid, *start, now_rfc3339(), true};
    bj::object o = to_json(s);
    o.erase("alive");
    make_dirs(layout.sessions_dir(id), 0700);
    write_file_atomic(layout.sessions_dir(id) + "/" + std::to_string(pid), json::compact(o), 0644);
    return s;
}

void unregister_session(const Layout& layout, const EnvId& id, int pid) {
    std::string path = layout.sessions_dir(id) + "/" + std::to_string(pid);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw_errno(Errc::store, "cannot remove session record " + path);
}

std::vector<Session> list_sessions(const Layout& layout, const EnvId& id) {
    std::vector<Session> out;
    for (const auto& name : list_dir(layout.sessions_dir(id))) {
        if (is_temp_name(name) || name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        Session s;
        s.pid = std::stoi(name);
        try {
            auto v =
                json::parse(read_file_limited(layout.sessions_dir(id) + "/" + name, 4096), name);
            const auto& o = v.as_object();
            s.start_time = static_cast<unsigned long long>(json::get_int(o, "start_time", name));
            s.started = json::get_string(o, "started", name);
            s.alive = json::get_int(o, "pid", name) == s.pid && process_alive(s.pid, s.start_time);
        } catch (const std::exception&) {
            s.alive = false;  // an unreadable record cannot prove a live process
        }
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(),
              [](const Session& a, const Session& b) { return a.pid < b.pid; });
    return out;
}

std::vector<Session> live_sessions(const Layout& layout, const EnvId& id) {
    std::vector<Session> out;
    for (auto& s : list_sessions(layout, id))
        if (s.alive) out.push_back(std::move(s));
    return out;
}

int prune_stale_sessions(const Layout& layout, const EnvId& id) {
    int n = 0;
    for (const auto& s : list_sessions(layout, id)) {
        if (s.alive) continue;
        unregister_session(layout, id, s.pid);
        ++n;
    }
    return n;
}

}  // namespace karapace::store
