// The namespace backend's translation of a run purpose into a sandbox spec.
#include <catch2/catch.hpp>

#include "runtime/namespace.hpp"

using namespace karapace;
using namespace karapace::runtime;

namespace {
EnvRun sample() {
    EnvRun e;
    e.name = "web";
    e.lower_dirs = {"/s/layers/a", "/s/images/base/rootfs"};
    e.upper_dir = "/s/env/1/upper";
    e.work_dir = "/s/env/1/work";
    e.session_dir = "/s/env/1/sessions";
    e.network_isolation = true;
    e.gpu = true;
    e.mounts = {{"/home/u/src", "/src", false}};
    e.env = {"FOO=bar"};
    e.limits.memory_max_bytes = 1 << 30;
    return e;
}
}  // namespace

TEST_CASE("a build runs as container root without host integration, network or mounts") {
    auto s = namespace_spec(Purpose::build, sample(), {"apt-get", "install", "-y", "git"});
    CHECK(s.mapping == sandbox::IdMapping::container_root);
    CHECK_FALSE(s.host_integration);
    CHECK_FALSE(s.network_isolation);  // packages are fetched even for isolated environments
    CHECK(s.mounts.empty());
    CHECK_FALSE(s.gpu);
    CHECK_FALSE(s.volatile_upper);
    CHECK(s.limits.memory_max_bytes == (1u << 30));
    CHECK(s.argv.front() == "apt-get");
}

TEST_CASE("exec keeps the user's id, shares the session and applies the manifest") {
    auto s = namespace_spec(Purpose::exec, sample(), {"make"});
    CHECK(s.mapping == sandbox::IdMapping::keep_id);
    CHECK(s.host_integration);
    CHECK(s.network_isolation);
    CHECK(s.gpu);
    CHECK(s.mounts.size() == 1);
    CHECK(s.env == std::vector<std::string>{"FOO=bar"});
    CHECK(s.volatile_upper);
    CHECK_FALSE(s.interactive);
    CHECK(s.hostname == "web");
    CHECK(s.session_dir == "/s/env/1/sessions");
}

TEST_CASE("a frozen environment runs read-only") {
    auto e = sample();
    e.frozen = true;
    auto s = namespace_spec(Purpose::exec, e, {"ls"});
    CHECK(s.read_only);
    CHECK_FALSE(s.volatile_upper);
}
