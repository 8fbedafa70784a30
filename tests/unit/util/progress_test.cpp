#include <catch2/catch.hpp>
#include <vector>

#include "karapace/util/progress.hpp"

using namespace karapace;

namespace {
struct Recorder final : ProgressSink {
    std::vector<double> overall_values;
    void step(std::string_view, std::uint64_t, ProgressUnit) override {}
    void advance(std::uint64_t) override {}
    void finish(bool) override {}
    void overall(double f) override { overall_values.push_back(f); }
};
}  // namespace

TEST_CASE("phased progress moves through weighted phases and never goes back") {
    Recorder r;
    PhasedProgress p(r, {{"image", 3}, {"store", 1}});
    p.begin("image");
    p.step("downloading", 1000, ProgressUnit::bytes);
    p.advance(500);
    p.advance(1000);
    p.finish(true);
    const double after_download = p.fraction();
    REQUIRE(after_download > 0.6);
    REQUIRE(after_download < 0.75);
    p.step("extracting", 0, ProgressUnit::items);  // unknown size: counts when it ends
    REQUIRE(p.fraction() == after_download);
    p.finish(true);
    REQUIRE(p.fraction() > after_download);
    p.begin("store");
    REQUIRE(p.fraction() == Approx(0.75));
    p.begin("image");  // an earlier phase again does not move the bar back
    REQUIRE(p.fraction() == Approx(0.75));
    p.complete();
    REQUIRE(p.fraction() == 1.0);
    for (std::size_t i = 1; i < r.overall_values.size(); ++i)
        REQUIRE(r.overall_values[i] > r.overall_values[i - 1]);
}

TEST_CASE("a step whose size becomes known later moves the fraction") {
    Recorder r;
    PhasedProgress p(r, {{"image", 1}});
    p.begin("image");
    p.step("downloading", 0, ProgressUnit::bytes);
    p.advance(10);
    REQUIRE(p.fraction() == 0);
    p.resize(100);
    p.advance(50);
    REQUIRE(p.fraction() > 0.4);
}
