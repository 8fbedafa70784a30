#include <catch2/catch.hpp>
#include <set>

#include "cli/command_table.hpp"
#include "cli/help.hpp"

using namespace karapace::cli;

TEST_CASE("the table carries every command of the product", "[cli][table]") {
    const std::vector<std::string> expected{
        "build",       "rebuild",      "enter",   "exec",    "destroy",   "stop",   "freeze",
        "archive",     "list",         "inspect", "diff",    "snapshots", "commit", "restore",
        "gc",          "verify-store", "push",    "pull",    "rename",    "doctor", "migrate",
        "completions", "man-pages",    "new",     "pin",     "images",    "help",   "export",
        "unexport",    "login",        "logout",  "upgrade", "tui"};
    for (const auto& name : expected) {
        INFO(name);
        CHECK(find_command(name) != nullptr);
    }
    CHECK(commands().size() == expected.size());
}

TEST_CASE("every command has a name, summary, description, section and runner", "[cli][table]") {
    std::set<std::string_view> names;
    for (const auto& c : commands()) {
        INFO(c.name);
        CHECK(names.insert(c.name).second);
        CHECK_FALSE(c.summary.empty());
        CHECK_FALSE(c.summary.ends_with("."));
        CHECK_FALSE(c.description.empty());
        CHECK_FALSE(c.section.empty());
        CHECK(c.run != nullptr);
        if (c.trailing != Trailing::none) CHECK_FALSE(c.trailing_name.empty());
    }
}

TEST_CASE("flags are unique per command and never shadow a global option", "[cli][table]") {
    std::set<std::string_view> global_long;
    std::set<char> global_short;
    for (const auto& g : global_flags()) {
        CHECK(global_long.insert(g.name).second);
        if (g.short_name != 0) CHECK(global_short.insert(g.short_name).second);
    }
    for (const auto& c : commands()) {
        std::set<std::string_view> seen;
        std::set<char> shorts;
        for (const auto& f : c.flags) {
            INFO(c.name << " --" << f.name);
            CHECK(seen.insert(f.name).second);
            CHECK(global_long.count(f.name) == 0);
            if (f.short_name != 0) {
                CHECK(shorts.insert(f.short_name).second);
                CHECK(global_short.count(f.short_name) == 0);
            }
            CHECK_FALSE(f.help.empty());
            if (f.kind != FlagKind::boolean) CHECK_FALSE(f.value_name.empty());
            if (f.type == ValueType::choice) CHECK(f.choices != nullptr);
            if (f.repeatable) CHECK(f.kind == FlagKind::boolean);
        }
    }
}

TEST_CASE("required positionals come before optional ones", "[cli][table]") {
    for (const auto& c : commands()) {
        bool optional_seen = false;
        for (const auto& p : c.positionals) {
            INFO(c.name << " " << p.name);
            if (p.required) CHECK_FALSE(optional_seen);
            if (!p.required) optional_seen = true;
            CHECK_FALSE(p.help.empty());
            if (p.type == ValueType::choice) CHECK(p.choices != nullptr);
        }
    }
}

TEST_CASE("every command's help shows its usage, arguments and options", "[cli][table]") {
    for (const auto& c : commands()) {
        INFO(c.name);
        const std::string help = command_help(c);
        CHECK_THAT(help, Catch::Contains(usage_line(c)));
        CHECK_THAT(help, Catch::Contains(std::string(c.summary)));
        for (const auto& f : c.flags)
            CHECK_THAT(help, Catch::Contains(flag_label(f)));
        for (const auto& p : c.positionals)
            CHECK_THAT(help, Catch::Contains(positional_label(p)));
        for (const auto& g : global_flags())
            CHECK_THAT(help, Catch::Contains(flag_label(g)));
    }
}

TEST_CASE("the main help lists every command with its summary", "[cli][table]") {
    const std::string help = main_help();
    for (const auto& c : commands()) {
        INFO(c.name);
        CHECK_THAT(help, Catch::Contains("  " + std::string(c.name) + " "));
        CHECK_THAT(help, Catch::Contains(std::string(c.summary)));
    }
}

TEST_CASE("usage lines show optional arguments in brackets", "[cli][table]") {
    CHECK(usage_line(*find_command("build")) == "karapace build [OPTIONS] [MANIFEST]");
    CHECK(usage_line(*find_command("rename")) == "karapace rename ENV NEW_NAME");
    CHECK(usage_line(*find_command("exec")) == "karapace exec [OPTIONS] ENV -- CMD...");
    CHECK(usage_line(*find_command("enter")) == "karapace enter [OPTIONS] ENV [-- CMD...]");
    CHECK(usage_line(*find_command("export")) ==
          "karapace export [OPTIONS] ENV [APP...] [-- CMD...]");
}

TEST_CASE("wrap keeps lines within the width and indents continuations", "[cli][help]") {
    const std::string text = wrap("one two three four five six seven eight nine ten", 4, 20);
    std::size_t start = 0;
    bool first = true;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        CHECK(line.size() + (first ? 4 : 0) <= 20);
        if (!first) CHECK(line.starts_with("    "));
        first = false;
        start = end + 1;
    }
    CHECK_FALSE(first);
}
