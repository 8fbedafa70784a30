#include <catch2/catch.hpp>
#include <filesystem>

#include "cli/command_table.hpp"
#include "cli/completions.hpp"
#include "cli/manpages.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

using namespace karapace;
using namespace karapace::cli;

TEST_CASE("every completion script offers every command and every flag", "[cli][completions]") {
    for (const char* shell : {"bash", "zsh", "fish"}) {
        INFO(shell);
        const std::string script = completion_script(shell);
        for (const auto& c : commands()) {
            CHECK_THAT(script, Catch::Contains(std::string(c.name)));
            for (const auto& f : c.flags)
                CHECK_THAT(script, Catch::Contains(std::string(f.name)));
        }
        for (const auto& g : global_flags())
            CHECK_THAT(script, Catch::Contains(std::string(g.name)));
    }
}

TEST_CASE("completion scripts offer the values of choice arguments", "[cli][completions]") {
    CHECK_THAT(completion_script("bash"), Catch::Contains("bash zsh fish"));
    CHECK_THAT(completion_script("zsh"), Catch::Contains("(bash zsh fish)"));
    CHECK_THAT(completion_script("fish"), Catch::Contains("'bash zsh fish'"));
}

TEST_CASE("a shell without a generator is a usage error", "[cli][completions]") {
    try {
        (void)completion_script("tcsh");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::usage);
        CHECK_THAT(e.hint(), Catch::Contains("bash"));
    }
}

TEST_CASE("a command's man page documents its synopsis, options and exit status", "[cli][man]") {
    const CommandSpec& build = *find_command("build");
    const std::string page = command_man_page(build);
    CHECK(page.starts_with(".TH KARAPACE-BUILD 1 "));
    CHECK_THAT(page, Catch::Contains(".SH SYNOPSIS"));
    CHECK_THAT(page, Catch::Contains("\\-\\-require\\-pinned\\-image"));
    CHECK_THAT(page, Catch::Contains(".SH GLOBAL OPTIONS"));
    CHECK_THAT(page, Catch::Contains(".SH EXIT STATUS"));
    CHECK_THAT(page, Catch::Contains("\n.B 64\n"));
}

TEST_CASE("no man page line starts a roff request by accident", "[cli][man]") {
    std::vector<std::string> pages{main_man_page()};
    for (const auto& c : commands())
        pages.push_back(command_man_page(c));
    for (const auto& page : pages) {
        std::size_t start = 0;
        while (start < page.size()) {
            std::size_t end = page.find('\n', start);
            if (end == std::string::npos) end = page.size();
            const std::string line = page.substr(start, end - start);
            INFO(line);
            if (line.starts_with(".") || line.starts_with("'")) {
                // Only the macros this generator emits.
                static const std::vector<std::string> macros{".TH ", ".SH ", ".TP", ".B ", ".BR ",
                                                             ".I ",  ".PP",  ".nf", ".fi"};
                bool known = false;
                for (const auto& m : macros)
                    known = known || line.starts_with(m);
                CHECK(known);
            }
            start = end + 1;
        }
    }
}

TEST_CASE("write_man_pages writes the main page and one page per command", "[cli][man]") {
    char tmpl[] = "/tmp/karapace-man-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = std::string(tmpl) + "/sub/man";
    const auto written = write_man_pages(dir);
    CHECK(written.size() == commands().size() + 1);
    CHECK(read_file(dir + "/karapace.1") == main_man_page());
    CHECK(read_file(dir + "/karapace-exec.1") == command_man_page(*find_command("exec")));
    std::filesystem::remove_all(tmpl);
}
