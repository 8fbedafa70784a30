#include <unistd.h>
#include <catch2/catch.hpp>

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
