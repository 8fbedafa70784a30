#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "karapace/store/faults.hpp"
#include "karapace/store/gc.hpp"
#include "karapace/store/lock.hpp"
#include "karapace/store/store.hpp"
#include "karapace/store/verify.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/process.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

std::string driver_path() {
    char buf[4096] = {};
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    REQUIRE(n > 0);
    return parent_dir(std::string(buf, static_cast<std::size_t>(n))) + "/store_fault_driver";
}

// Runs the driver in a fresh process (fault_point reads KARAPACE_FAULT once per process).
int run_driver(const std::string& root, const std::string& fault) {
    RunOptions o;
    std::vector<std::string> env = {"PATH=/usr/bin:/bin", "KARAPACE_LOG=error"};
    if (const char* ld = std::getenv("LD_LIBRARY_PATH"))
        env.push_back(std::string("LD_LIBRARY_PATH=") + ld);
    if (!fault.empty()) env.push_back("KARAPACE_FAULT=" + fault);
    o.env = env;
    auto r = run_process({driver_path(), root}, o);
    if (!r.ok()) INFO("driver stderr: " << r.err);
    return r.status;
}

// Where the scripted pass first reaches each point; later points imply earlier work is durable.
const std::vector<std::string> script_order = {
    "layout-init.before-version",
    "atomic-file.before-rename",
    "object-put.written",
    "object-put.before-rename",
    "object-put.after-rename",
    "layer-put.before-write",
    "layer-put.after-write",
    "wal-begin.before-write",
    "wal-begin.after-write",
    "wal-step.after-write",
    "metadata-put.before-write",
    "metadata-put.after-write",
    "wal-commit.before-remove",
    "wal-commit.after-remove",
    "rename.before-write",
    "rename.after-write",
    "wal-recover.before-undo",
    "wal-recover.after-undo",
    "gc.begin",
    "gc.after-first-removal",
    "gc.before-commit",
};

std::size_t order_of(const std::string& p) {
    return static_cast<std::size_t>(std::find(script_order.begin(), script_order.end(), p) -
                                    script_order.begin());
}

}  // namespace

TEST_CASE("the crash script covers every declared fault point") {
    for (auto p : fault_points()) {
        INFO(p);
        CHECK(order_of(std::string(p)) < script_order.size());
    }
    CHECK(script_order.size() == fault_points().size());
}

TEST_CASE("the crash script runs to completion without a fault and leaves a clean store") {
    TempDir dir;
    REQUIRE(run_driver(dir / "root", "") == 0);
    CHECK(verify_store(Layout(dir / "root")).ok());
    CHECK(temp_files(dir / "root").empty());
}

TEST_CASE(
    "a crash at any store fault point loses nothing committed and recovers to a clean store") {
    for (auto point_view : fault_points()) {
        std::string point(point_view);
        DYNAMIC_SECTION("crash at " << point) {
            TempDir dir;
            std::string root = dir / "root";
            REQUIRE(run_driver(root, point) == 137);  // the point was reached and killed the run

            Store s = Store::open(root);
            EnvId id = EnvId::parse(std::string(64, 'a'));
            auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
            RecoveryReport rec = s.wal().recover(lock);
            CHECK(rec.corrupt.empty());
            CHECK(rec.failures.empty());
            CHECK(s.wal().list().empty());

            // Every record readable; an env dir exists exactly when its metadata does.
            auto records = s.metadata().list();
            for (const auto& e : records)
                CHECK(e.ok());
            CHECK(s.metadata().exists(id) == (::access(s.layout().env_dir(id).c_str(), F_OK) == 0));
            if (order_of(point) > order_of("wal-commit.before-remove")) {
                REQUIRE(s.metadata().exists(id));  // committed before the crash: must survive
                auto m = s.metadata().get(id);
                CHECK((!m.name || *m.name == "renamed"));
                if (order_of(point) > order_of("rename.after-write")) {
                    CHECK(m.name == std::optional<std::string>("renamed"));
                    // The dead operation was rolled back: state restored, its dir gone.
                    CHECK(m.state == EnvState::built);
                    CHECK(::access((s.layout().staging_dir() + "/dead-op").c_str(), F_OK) != 0);
                }
            }
            // No object is partial: every object verifies, and gc clears temp files.
            GcOptions gc;
            gc.grace = std::chrono::seconds(0);
            gc.busy_grace = std::chrono::seconds(0);  // the crashed operations are dead
            collect_garbage(s.layout(), lock, gc);
            VerifyReport v = verify_store(s.layout());
            INFO(human_summary(v));
            CHECK(v.ok());
            CHECK(temp_files(root).empty());
        }
    }
}
