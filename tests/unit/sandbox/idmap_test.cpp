#include "karapace/sandbox/idmap.hpp"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "karapace/util/error.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/child.hpp"

using namespace karapace::sandbox;

TEST_CASE("a sub-id range is found by user name or by numeric uid") {
    std::string text = "# comment\nalice:100000:65536\nbob:165536:65536\n1002:231072:65536\n";
    CHECK(find_subid_range(text, "bob", 1001) == SubIdRange{165536, 65536});
    CHECK(find_subid_range(text, "carol", 1002) == SubIdRange{231072, 65536});
    CHECK_FALSE(find_subid_range(text, "dave", 1003));
}

TEST_CASE("malformed subuid lines are skipped, not trusted") {
    std::string text = "alice:x:65536\nalice:100000\nalice:5:0\nalice:200000:70000\n";
    CHECK(find_subid_range(text, "alice", 1000) == SubIdRange{200000, 70000});
}

TEST_CASE("a user name is read from passwd text without NSS") {
    std::string text = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    CHECK(passwd_name(text, 1000) == "alice");
    CHECK_FALSE(passwd_name(text, 1001));
}

TEST_CASE("root gets the identity map of the whole id range") {
    auto plan = plan_id_maps(IdMapping::keep_id, 0, 0, std::nullopt, std::nullopt);
    CHECK(plan.uid == std::vector<IdMapLine>{{0, 0, 4294967295u}});
    CHECK(plan.gid == plan.uid);
    CHECK_FALSE(plan.use_helpers);
    CHECK_FALSE(plan.deny_setgroups);
}

TEST_CASE("builds and runs share one map; container root switches to 0 inside it") {
    SubIdRange r{100000, 65536};
    auto keep = plan_id_maps(IdMapping::keep_id, 1000, 1001, r, r);
    CHECK(keep.uid ==
          std::vector<IdMapLine>{
              {0, 100999, 1}, {1, 100000, 999}, {1000, 1000, 1}, {1001, 101000, 64536}});
    CHECK(keep.gid ==
          std::vector<IdMapLine>{
              {0, 101000, 1}, {1, 100000, 1000}, {1001, 1001, 1}, {1002, 101001, 64535}});
    CHECK(keep.inner_uid == 1000);
    CHECK(keep.inner_gid == 1001);
    CHECK_FALSE(keep.switch_ids);
    // The user is itself and root a sub-id in both: what root owns in an image is root's in
    // every session, and the user's files are the user's.
    auto build = plan_id_maps(IdMapping::container_root, 1000, 1001, r, r);
    CHECK(build.use_helpers);
    CHECK(build.uid == keep.uid);
    CHECK(build.gid == keep.gid);
    CHECK(build.inner_uid == 0);
    CHECK(build.inner_gid == 0);
    CHECK(build.switch_ids);
    CHECK(IdMapPlan::maps(keep.uid, 65536));
    CHECK_FALSE(IdMapPlan::maps(keep.uid, 65537));
}

TEST_CASE("keep-id with a uid above the range size maps the whole range below it") {
    auto plan = plan_id_maps(IdMapping::keep_id, 70000, 70000, SubIdRange{100000, 65536},
                             SubIdRange{100000, 65536});
    CHECK(plan.uid ==
          std::vector<IdMapLine>{{0, 165535, 1}, {1, 100000, 65535}, {70000, 70000, 1}});
}

TEST_CASE("the spare id of the format 3 -> 4 migration is the top of the range, when not root's") {
    SubIdRange r{100000, 65536};
    // uid 1000: container 65536 has the range's last id, which format 3 gave container id 65536.
    auto low = plan_id_maps(IdMapping::container_root, 1000, 1000, r, r);
    CHECK(top_sub_id_inside(low.uid, 1000) == 65536);
    // A uid at or above the range size: container root has the last id; there is no spare.
    auto high = plan_id_maps(IdMapping::container_root, 70000, 70000, r, r);
    CHECK(top_sub_id_inside(high.uid, 70000) == 0);
    auto edge = plan_id_maps(IdMapping::container_root, 65536, 65536, r, r);
    CHECK(top_sub_id_inside(edge.uid, 65536) == 0);
}

TEST_CASE("without a big enough range only the user's own id is mapped") {
    auto build = plan_id_maps(IdMapping::container_root, 1000, 1000, SubIdRange{100000, 1000},
                              SubIdRange{100000, 65536});
    CHECK(build.single_id);
    CHECK(build.deny_setgroups);
    CHECK_FALSE(build.use_helpers);
    CHECK(build.uid == std::vector<IdMapLine>{{0, 1000, 1}});
    auto enter = plan_id_maps(IdMapping::keep_id, 1000, 1000, std::nullopt, std::nullopt);
    CHECK(enter.uid == std::vector<IdMapLine>{{1000, 1000, 1}});
    CHECK(enter.inner_uid == 1000);
}

TEST_CASE("a map is formatted as uid_map lines") {
    CHECK(format_id_map({{0, 1000, 1}, {1, 100000, 65536}}) == "0 1000 1\n1 100000 65536\n");
}

TEST_CASE("a map the sub-id helpers refuse comes back as a runtime error naming the helper") {
    if (!karapace::find_program("newuidmap")) {
        WARN("skipped: newuidmap is not installed");
        return;
    }
    karapace::Pipe ready, done;
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWUSER) != 0) ::_exit(1);
        send_byte(ready.write.get());
        wait_for_byte(done.read.get());
        ::_exit(0);
    }
    ready.write.reset();
    REQUIRE(wait_for_byte(ready.read.get()));
    IdMapPlan plan;
    plan.use_helpers = true;
    plan.uid = {{0, 4000000000u, 1}};  // nobody owns this sub-id
    plan.gid = plan.uid;
    try {
        write_id_maps(pid, plan);
        FAIL("the helper accepted a map outside every sub-id range");
    } catch (const karapace::Error& e) {
        CHECK(e.code() == karapace::Errc::runtime);
        CHECK(std::string(e.what()).find("newuidmap refused") != std::string::npos);
    }
    send_byte(done.write.get());
    int status = 0;
    ::waitpid(pid, &status, 0);
}
