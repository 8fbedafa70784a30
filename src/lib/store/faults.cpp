#include "karapace/store/faults.hpp"

namespace karapace::store {

const std::vector<std::string_view>& fault_points() {
    // Every fault_point() call of the store's mutations, in the order an operation reaches them,
    // plus the util AtomicFile point that every record write passes.
    static const std::vector<std::string_view> points = {
        "layout-init.before-version", "object-put.written",       "object-put.before-rename",
        "object-put.after-rename",    "layer-put.before-write",   "layer-put.after-write",
        "metadata-put.before-write",  "metadata-put.after-write", "rename.before-write",
        "rename.after-write",         "wal-begin.before-write",   "wal-begin.after-write",
        "wal-step.after-write",       "wal-commit.before-remove", "wal-commit.after-remove",
        "wal-recover.before-undo",    "wal-recover.after-undo",   "gc.begin",
        "gc.after-first-removal",     "gc.before-commit",         "atomic-file.before-rename",
    };
    return points;
}

}  // namespace karapace::store
