// Runs one scripted pass over every store mutation, for the crash-injection test: started as a
// fresh process with KARAPACE_FAULT set, it dies at the named point like a SIGKILL would.
// Usage: store_fault_driver <root>. Exit 0: the whole script ran.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "karapace/store/gc.hpp"
#include "karapace/store/lock.hpp"
#include "karapace/store/store.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "store/record.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;

namespace {

// A WAL entry as a crashed process would leave it: its owner is dead. Written without going
// through fault points, so the scripted crash happens where the test asked.
void plant_dead_entry(const Store& s, const EnvId& id) {
    pid_t child = ::fork();
    if (child == 0) {
        for (;;)
            ::pause();
    }
    unsigned long long start = 0;
    for (int i = 0; i < 1000 && start == 0; ++i)
        start = process_start_time(child).value_or(0);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    WalEntry e;
    e.op_id = "00000000T000000.000000000Z-" + std::to_string(child) + "-0";
    e.kind = "restore";
    e.env_id = id.str();
    e.owner_pid = child;
    e.owner_start = start;
    e.created = "2026-11-28T00:00:00Z";
    e.steps = {RemoveTree{"staging/dead-op"}, ResetState{id.str(), EnvState::built}};
    store::test::write_text(s.layout().wal_dir() + "/" + e.op_id + ".json",
                            seal_record(to_json(e)));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: store_fault_driver <root>\n");
        return 64;
    }
    std::string root = argv[1];
    try {
        Store s = Store::open(root);
        EnvId id = EnvId::parse(std::string(64, 'a'));

        Digest manifest = s.objects().put("{\"manifest\": \"crash test\"}");
        make_dirs(s.layout().staging_dir() + "/tree/etc");
        store::test::write_text(s.layout().staging_dir() + "/tree/etc/motd", "hello");
        PackResult packed = pack_layer(s.layout().staging_dir() + "/tree", s.objects());
        Layer layer{packed.digest, LayerKind::packages,    std::nullopt,
                    packed.size,   "2026-11-28T00:00:00Z", packed.files};
        s.layers().put(layer);

        {
            WalOp op = s.wal().begin("build", id.str());
            op.add_step(RemoveTree{"env/" + id.str()});
            op.add_step(RemoveFile{"metadata/" + id.str() + ".json"});
            make_dirs(s.layout().env_dir(id) + "/upper");
            EnvMetadata m = make_metadata(id);
            m.state = EnvState::built;
            m.manifest_object = manifest;
            m.layers = {packed.digest};
            m.manifest_dir = "/work";
            s.metadata().put(m);
            op.commit();
        }

        s.metadata().rename(id, std::string("renamed"));

        // An interrupted operation of a dead process, to be rolled back.
        auto frozen = s.metadata().get(id);
        frozen.state = EnvState::frozen;
        store::test::write_text(s.layout().metadata_path(id), seal_record(to_json(frozen)));
        make_dirs(s.layout().staging_dir() + "/dead-op/partial");
        plant_dead_entry(s, id);
        s.objects().put("garbage for gc");

        auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
        RecoveryReport r = s.wal().recover(lock);
        if (r.rolled_back != 1) return 3;
        GcOptions gc;
        gc.grace = std::chrono::seconds(0);
        gc.busy_grace = std::chrono::seconds(0);  // nothing else works in this store
        collect_garbage(s.layout(), lock, gc);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "store_fault_driver: %s\n", e.what());
        return 2;
    }
}
