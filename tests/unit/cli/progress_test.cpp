#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <vector>

#include "cli/progress.hpp"
#include "karapace/util/fd.hpp"

using namespace karapace;
using namespace karapace::cli;

namespace {

std::string drain(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::size_t columns(const std::string& s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace

TEST_CASE("byte counts are shown in binary units", "[cli][progress]") {
    CHECK(format_bytes(0) == "0 B");
    CHECK(format_bytes(1023) == "1023 B");
    CHECK(format_bytes(1536) == "1.5 KiB");
    CHECK(format_bytes(200ull * 1024 * 1024) == "200.0 MiB");
}

TEST_CASE("a bar with a known total shows percent, amounts, rate and ETA", "[cli][progress]") {
    const std::uint64_t mib = 1024 * 1024;
    const std::string line = render_progress_line("downloading debian/bookworm", 50 * mib,
                                                  100 * mib, ProgressUnit::bytes, 5.0, 0, 120);
    CHECK_THAT(line, Catch::Contains("downloading debian/bookworm"));
    CHECK_THAT(line, Catch::Contains(" 50%"));
    CHECK_THAT(line, Catch::Contains("50.0 MiB/100.0 MiB"));
    CHECK_THAT(line, Catch::Contains("10.0 MiB/s"));
    CHECK_THAT(line, Catch::Contains("ETA 0:05"));
}

TEST_CASE("an unknown total gives a spinner instead of a bar", "[cli][progress]") {
    const std::string a =
        render_progress_line("installing packages", 0, 0, ProgressUnit::items, 1.0, 0, 80);
    const std::string b =
        render_progress_line("installing packages", 0, 0, ProgressUnit::items, 1.0, 1, 80);
    CHECK(a != b);
    CHECK_THAT(a, Catch::Contains("installing packages"));
    CHECK_THAT(a, !Catch::Contains("%"));
}

TEST_CASE("a progress line never exceeds the terminal width", "[cli][progress]") {
    const std::string desc(200, 'x');
    for (std::size_t width : {20u, 40u, 79u}) {
        INFO(width);
        CHECK(columns(render_progress_line(desc, 5, 10, ProgressUnit::bytes, 2.0, 0, width)) <=
              width);
        CHECK(columns(render_progress_line(desc, 5, 0, ProgressUnit::bytes, 2.0, 3, width)) <=
              width);
    }
}

TEST_CASE("a drawing sink ends each step with a mark and the description", "[cli][progress]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    {
        TerminalProgress p(true, false, fds[1]);
        p.step("unpacking layer", 100, ProgressUnit::bytes);
        p.advance(100);
        p.finish(true);
        p.step("installing hello", 0, ProgressUnit::items);
        p.finish(false);
    }
    ::close(fds[1]);
    const std::string out = drain(fds[0]);
    ::close(fds[0]);
    CHECK_THAT(out, Catch::Contains("✓ unpacking layer"));
    CHECK_THAT(out, Catch::Contains("✗ installing hello"));
}

TEST_CASE("a sink that must not draw writes nothing", "[cli][progress]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    {
        TerminalProgress p(false, false, fds[1]);
        p.step("unpacking layer", 100, ProgressUnit::bytes);
        p.advance(50);
        p.note("a note");
        p.finish(true);
    }
    ::close(fds[1]);
    CHECK(drain(fds[0]).empty());
    ::close(fds[0]);
}

TEST_CASE("with --json, a step's progress is a line of JSON per event", "[cli][progress]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    {
        TerminalProgress p(TerminalProgress::Mode::events, false, fds[1]);
        p.step("downloading layer 1/2 sha256:abc", 1000, ProgressUnit::bytes);
        p.advance(400);  // within the first second: no event yet
        p.advance(1000);
        p.note("a note");
        p.finish(true);
    }
    ::close(fds[1]);
    auto out = drain(fds[0]);
    ::close(fds[0]);
    std::vector<boost::json::object> events;
    std::size_t start = 0;
    for (auto nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
        events.push_back(boost::json::parse(out.substr(start, nl - start)).as_object());
        start = nl + 1;
    }
    REQUIRE(events.size() == 4);
    CHECK(events[0].at("event") == "step");
    CHECK(events[0].at("unit") == "bytes");
    CHECK(events[0].at("total").to_number<std::uint64_t>() == 1000);
    CHECK(events[1].at("event") == "note");
    CHECK(events[2].at("event") == "progress");  // the final count, as the step ends
    CHECK(events[2].at("done").to_number<std::uint64_t>() == 1000);
    CHECK(events[2].contains("rate"));
    CHECK(events[3].at("event") == "done");
    CHECK(events[3].at("ok") == true);
    CHECK(events[3].at("description") == "downloading layer 1/2 sha256:abc");
}
