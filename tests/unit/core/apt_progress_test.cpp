// apt's install output turned into progress for the "installing packages" step.
#include <catch2/catch.hpp>
#include <vector>

#include "core/build_steps.hpp"

using namespace karapace;

namespace {
struct Recorder final : ProgressSink {
    std::uint64_t total = 0;
    std::vector<std::uint64_t> done;
    std::size_t notes = 0;
    void step(std::string_view, std::uint64_t, ProgressUnit) override {}
    void advance(std::uint64_t d) override { done.push_back(d); }
    void finish(bool) override {}
    void resize(std::uint64_t t) override { total = t; }
    void note(std::string_view) override { ++notes; }
};
}  // namespace

TEST_CASE("apt's install lines move the install step: fetched, unpacked, set up per package") {
    Recorder r;
    core::AptInstallProgress apt(r);
    for (const char* line : {"Reading package lists...", "Get:0 ignored before the summary",
                             "0 upgraded, 2 newly installed, 0 to remove and 0 not upgraded.",
                             "Get:1 http://deb.debian.org/debian bookworm/main amd64 hello",
                             "Get:2 http://deb.debian.org/debian bookworm/main amd64 libfoo",
                             "Unpacking hello (2.10-3) ...", "Unpacking libfoo (1.0) ...",
                             "Setting up libfoo (1.0) ...", "Setting up hello (2.10-3) ...",
                             "Processing triggers for man-db ..."})
        apt.note(line);
    REQUIRE(r.notes == 10);  // every line still reaches the job as a Note
    REQUIRE(r.total == 6);
    REQUIRE(r.done == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("an apt run that installs nothing leaves the step's size unknown") {
    Recorder r;
    core::AptInstallProgress apt(r);
    apt.note("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.");
    apt.note("Setting up nothing");
    REQUIRE(r.total == 0);
    REQUIRE(r.done.empty());
}
