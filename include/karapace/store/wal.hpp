// Write-ahead log: one file per operation under `store/wal/<op_id>.json`, naming its owner
// (pid + process start time) and the steps that undo the operation. Recovery runs under the
// exclusive store lock, only for entries whose owner is dead, and every path it touches is
// confined to the store root.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "karapace/store/layout.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/store/remove.hpp"

namespace karapace::store {

class StoreLock;

struct RemoveTree {
    std::string path;  // relative to the store root
};
struct RemoveFile {
    std::string path;
};
struct RenameBack {  // undo a rename: move `to` back to `from`
    std::string from;
    std::string to;
};
struct ResetState {
    std::string env_id;
    EnvState state;
};
using RollbackStep = std::variant<RemoveTree, RemoveFile, RenameBack, ResetState>;

struct WalEntry {
    std::string op_id;
    std::string kind;  // "build", "commit", "restore", "destroy", "gc", ...
    std::string env_id;
    int owner_pid = 0;
    unsigned long long owner_start = 0;
    std::string created;
    std::vector<RollbackStep> steps;
    // Paths (relative to the root) an operation in flight is producing: gc keeps them.
    std::vector<std::string> protects;
};

boost::json::object to_json(const WalEntry& e);

class Wal;

// An operation in progress. commit() ends it; destroying it without commit() rolls it back.
class WalOp {
public:
    WalOp(WalOp&&) noexcept;
    WalOp& operator=(WalOp&&) = delete;
    WalOp(const WalOp&) = delete;
    ~WalOp();

    const WalEntry& entry() const noexcept { return entry_; }
    // Appends a rollback step (rewrites the entry atomically) before the change it undoes.
    void add_step(RollbackStep step);
    // Records a path the operation is producing, so gc keeps it.
    void protect(const std::string& rel_path);
    void commit();
    // Runs the steps in reverse and removes the entry.
    void rollback();

private:
    friend class Wal;
    WalOp(const Wal& wal, WalEntry entry);
    const Wal* wal_;
    WalEntry entry_;
    bool done_ = false;
};

struct RecoveryReport {
    int rolled_back = 0;
    int live = 0;                       // entries left alone because their owner still runs
    std::vector<std::string> corrupt;   // unreadable entries, left in place and reported
    std::vector<std::string> failures;  // steps that could not be undone
    int names_pruned = 0;               // dangling name index entries removed after a rollback
};
boost::json::object to_json(const RecoveryReport& r);

class Wal {
public:
    Wal(Layout layout, Remover remover = default_remover());

    // Writes a new entry owned by this process.
    WalOp begin(const std::string& kind, const std::string& env_id = {}) const;

    struct Listed {
        std::string path;
        std::optional<WalEntry> entry;
        std::string error;
    };
    // Every entry file, sorted by op id (which starts with its creation time).
    std::vector<Listed> list() const;
    // True when there is no entry file at all (a directory read, no record parsed).
    bool empty() const;

    // Rolls back entries whose owner is dead. Requires `lock` held exclusively.
    RecoveryReport recover(const StoreLock& lock) const;

    const Layout& layout() const noexcept { return layout_; }

private:
    friend class WalOp;
    void write(const WalEntry& e) const;
    void remove_entry(const WalEntry& e) const;
    void undo(const WalEntry& e, std::vector<std::string>& failures) const;
    Layout layout_;
    Remover remover_;
};

}  // namespace karapace::store
