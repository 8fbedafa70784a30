#include "karapace/store/wal.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "karapace/store/lock.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/time.hpp"
#include "store/fsutil.hpp"
#include "store/record.hpp"

namespace karapace::store {

namespace bj = boost::json;

namespace {

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

bj::object step_to_json(const RollbackStep& s) {
    bj::object o;
    std::visit(overloaded{
                   [&](const RemoveTree& r) { o["remove_tree"] = r.path; },
                   [&](const RemoveFile& r) { o["remove_file"] = r.path; },
                   [&](const RenameBack& r) {
                       bj::object v;
                       v["from"] = r.from;
                       v["to"] = r.to;
                       o["rename_back"] = std::move(v);
                   },
                   [&](const ResetState& r) {
                       bj::object v;
                       v["env_id"] = r.env_id;
                       v["state"] = env_state_name(r.state);
                       o["reset_state"] = std::move(v);
                   },
               },
               s);
    return o;
}

RollbackStep step_from_json(const bj::value& v, const std::string& what) {
    if (!v.is_object() || v.as_object().size() != 1)
        throw Error(Errc::store, what + ": a rollback step is not a one-key object");
    const auto& o = v.as_object();
    if (o.contains("remove_tree")) return RemoveTree{json::get_string(o, "remove_tree", what)};
    if (o.contains("remove_file")) return RemoveFile{json::get_string(o, "remove_file", what)};
    if (o.contains("rename_back")) {
        const auto& r = json::get_object(o, "rename_back", what);
        return RenameBack{json::get_string(r, "from", what), json::get_string(r, "to", what)};
    }
    if (o.contains("reset_state")) {
        const auto& r = json::get_object(o, "reset_state", what);
        return ResetState{json::get_string(r, "env_id", what),
                          parse_env_state(json::get_string(r, "state", what))};
    }
    throw Error(Errc::store, what + ": unknown rollback step");
}

WalEntry entry_from_json(const bj::object& o, const std::string& what) {
    WalEntry e;
    e.op_id = json::get_string(o, "op_id", what);
    e.kind = json::get_string(o, "kind", what);
    e.env_id = json::get_string(o, "env_id", what);
    const auto& owner = json::get_object(o, "owner", what);
    e.owner_pid = static_cast<int>(json::get_int(owner, "pid", what));
    e.owner_start = static_cast<unsigned long long>(json::get_int(owner, "start_time", what));
    e.created = json::get_string(o, "created", what);
    for (const auto& s : json::get_array(o, "steps", what))
        e.steps.push_back(step_from_json(s, what));
    for (const auto& p : json::get_array(o, "protects", what)) {
        if (!p.is_string()) throw Error(Errc::store, what + ": protects holds a non-string");
        e.protects.emplace_back(p.as_string());
    }
    return e;
}

std::string new_op_id() {
    static std::atomic<unsigned> counter{0};
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
        1000000000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02d.%09lldZ-%d-%u", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(nanos), static_cast<int>(::getpid()), counter++);
    return buf;
}

}  // namespace

bj::object to_json(const WalEntry& e) {
    bj::object o;
    o["op_id"] = e.op_id;
    o["kind"] = e.kind;
    o["env_id"] = e.env_id;
    bj::object owner;
    owner["pid"] = e.owner_pid;
    owner["start_time"] = e.owner_start;
    o["owner"] = std::move(owner);
    o["created"] = e.created;
    bj::array steps;
    for (const auto& s : e.steps)
        steps.push_back(step_to_json(s));
    o["steps"] = std::move(steps);
    bj::array protects;
    for (const auto& p : e.protects)
        protects.emplace_back(p);
    o["protects"] = std::move(protects);
    return o;
}

bj::object to_json(const RecoveryReport& r) {
    bj::object o;
    o["rolled_back"] = r.rolled_back;
    o["live"] = r.live;
    o["names_pruned"] = r.names_pruned;
    bj::array corrupt, failures;
    for (const auto& c : r.corrupt)
        corrupt.emplace_back(c);
    for (const auto& f : r.failures)
        failures.emplace_back(f);
    o["corrupt"] = std::move(corrupt);
    o["failures"] = std::move(failures);
    return o;
}

Wal::Wal(Layout layout, Remover remover)
    : layout_(std::move(layout)), remover_(std::move(remover)) {}

void Wal::write(const WalEntry& e) const {
    write_file_atomic(layout_.wal_dir() + "/" + e.op_id + ".json", seal_record(to_json(e)), 0600);
}

void Wal::remove_entry(const WalEntry& e) const {
    std::string path = layout_.wal_dir() + "/" + e.op_id + ".json";
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw_errno(Errc::store, "cannot remove WAL entry " + path);
    fsync_dir(layout_.wal_dir());
}

WalOp Wal::begin(const std::string& kind, const std::string& env_id) const {
    WalEntry e;
    e.op_id = new_op_id();
    e.kind = kind;
    e.env_id = env_id;
    e.owner_pid = static_cast<int>(::getpid());
    e.owner_start = process_start_time(e.owner_pid).value_or(0);
    e.created = format_rfc3339_nanos(std::chrono::system_clock::now());
    make_dirs(layout_.wal_dir(), 0700);
    fault_point("wal-begin.before-write");
    write(e);
    fault_point("wal-begin.after-write");
    return WalOp(*this, std::move(e));
}

// Undoes the steps last to first. Every path is resolved inside the store root first; a step
// naming anything else is refused and reported, never executed.
void Wal::undo(const WalEntry& e, std::vector<std::string>& failures) const {
    for (auto it = e.steps.rbegin(); it != e.steps.rend(); ++it) {
        try {
            std::visit(overloaded{
                           [&](const RemoveTree& r) { remover_(layout_.resolve(r.path)); },
                           [&](const RemoveFile& r) {
                               std::string p = layout_.resolve(r.path);
                               if (::unlink(p.c_str()) != 0 && errno != ENOENT)
                                   throw_errno(Errc::store, "cannot remove " + p);
                           },
                           [&](const RenameBack& r) {
                               std::string from = layout_.resolve(r.from);
                               std::string to = layout_.resolve(r.to);
                               if (!lstat_path(to)) return;
                               if (lstat_path(from))
                                   throw Error(Errc::store, "cannot move " + to + " back to " +
                                                                from + ": both exist");
                               if (::rename(to.c_str(), from.c_str()) != 0)
                                   throw_errno(Errc::store, "cannot move " + to + " back");
                           },
                           [&](const ResetState& r) {
                               MetadataStore md(layout_);
                               EnvId id = EnvId::parse(r.env_id);
                               if (md.exists(id)) md.set_state(id, r.state);
                           },
                       },
                       *it);
        } catch (const std::exception& ex) {
            failures.push_back("WAL " + e.op_id + " (" + e.kind + "): " + ex.what());
            log::warn("rollback of ", e.op_id, ": ", ex.what());
        }
    }
}

std::vector<Wal::Listed> Wal::list() const {
    std::vector<Listed> out;
    for (const auto& name : list_dir(layout_.wal_dir())) {
        if (is_temp_name(name) || !name.ends_with(".json")) continue;
        Listed l;
        l.path = layout_.wal_dir() + "/" + name;
        try {
            std::string text = read_file_limited(l.path, 4 << 20);
            WalEntry e = entry_from_json(open_record(text, l.path), l.path);
            if (e.op_id + ".json" != name)
                throw Error(Errc::store, l.path + ": op_id does not match the file name");
            l.entry = std::move(e);
        } catch (const Error& e) {
            if (e.code() == Errc::not_found) continue;  // committed while we listed
            l.error = e.what();
        }
        out.push_back(std::move(l));
    }
    return out;
}

bool Wal::empty() const {
    for (const auto& name : list_dir(layout_.wal_dir()))
        if (!is_temp_name(name) && name.ends_with(".json")) return false;
    return true;
}

RecoveryReport Wal::recover(const StoreLock& lock) const {
    lock.require_exclusive("WAL recovery");
    RecoveryReport report;
    for (auto& l : list()) {
        if (!l.entry) {
            // Kept, not deleted: its rollback steps may still matter to whoever repairs it.
            report.corrupt.push_back(l.path + ": " + l.error);
            continue;
        }
        const WalEntry& e = *l.entry;
        if (e.owner_pid > 0 && process_alive(e.owner_pid, e.owner_start)) {
            ++report.live;
            continue;
        }
        fault_point("wal-recover.before-undo");
        std::size_t failed_before = report.failures.size();
        undo(e, report.failures);
        fault_point("wal-recover.after-undo");
        // An entry whose rollback did not complete stays, so the next recovery retries it and
        // the information is never lost.
        if (report.failures.size() != failed_before) continue;
        remove_entry(e);
        ++report.rolled_back;
    }
    // An interrupted build or destroy can leave a name index entry whose record is gone.
    if (report.rolled_back > 0) report.names_pruned = MetadataStore(layout_).prune_dangling_names();
    return report;
}

WalOp::WalOp(const Wal& wal, WalEntry entry) : wal_(&wal), entry_(std::move(entry)) {}

WalOp::WalOp(WalOp&& o) noexcept : wal_(o.wal_), entry_(std::move(o.entry_)), done_(o.done_) {
    o.done_ = true;
}

WalOp::~WalOp() {
    if (done_) return;
    try {
        rollback();
    } catch (const std::exception& e) {
        log::warn("rollback of ", entry_.op_id, " failed: ", e.what(),
                  " (the next karapace command will retry)");
    }
}

void WalOp::add_step(RollbackStep step) {
    // Validate now: a step that recovery would refuse is a programming error here.
    std::visit(overloaded{
                   [&](const RemoveTree& r) { wal_->layout().resolve(r.path); },
                   [&](const RemoveFile& r) { wal_->layout().resolve(r.path); },
                   [&](const RenameBack& r) {
                       wal_->layout().resolve(r.from);
                       wal_->layout().resolve(r.to);
                   },
                   [&](const ResetState& r) { EnvId::parse(r.env_id); },
               },
               step);
    entry_.steps.push_back(std::move(step));
    wal_->write(entry_);
    fault_point("wal-step.after-write");
}

void WalOp::protect(const std::string& rel_path) {
    wal_->layout().resolve(rel_path);
    entry_.protects.push_back(rel_path);
    wal_->write(entry_);
}

void WalOp::commit() {
    if (done_) return;
    fault_point("wal-commit.before-remove");
    wal_->remove_entry(entry_);
    done_ = true;
    fault_point("wal-commit.after-remove");
}

void WalOp::rollback() {
    if (done_) return;
    done_ = true;
    std::vector<std::string> failures;
    wal_->undo(entry_, failures);
    if (!failures.empty())
        throw Error(Errc::store,
                    "rollback of " + entry_.op_id + " left work undone: " + failures.front(),
                    "the WAL entry is kept; the next karapace command retries the rollback");
    wal_->remove_entry(entry_);
}

}  // namespace karapace::store
