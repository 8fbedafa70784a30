#include <catch2/catch.hpp>

#include "cli/parse.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::cli;

namespace {

Invocation parse(std::vector<std::string> args) { return parse_command_line(args); }

// The usage Error a command line produces (fails the test if it parses).
Error usage_error_of(std::vector<std::string> args) {
    try {
        parse_command_line(args);
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected a usage error");
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("global options are accepted before the command", "[cli][parse]") {
    auto inv = parse({"--store", "/tmp/s", "--json", "-v", "build", "m.toml"});
    REQUIRE(inv.command != nullptr);
    CHECK(inv.command->name == "build");
    CHECK(inv.globals.store == "/tmp/s");
    CHECK(inv.globals.json);
    CHECK(inv.globals.verbosity == 1);
    CHECK(inv.positional("manifest") == "m.toml");
}

TEST_CASE("global options are accepted after the command and its arguments", "[cli][parse]") {
    auto inv =
        parse({"build", "m.toml", "--json", "--store=/tmp/s", "--lock-timeout", "2.5", "--trace"});
    CHECK(inv.command->name == "build");
    CHECK(inv.globals.json);
    CHECK(inv.globals.store == "/tmp/s");
    REQUIRE(inv.globals.lock_timeout.has_value());
    CHECK(*inv.globals.lock_timeout == Approx(2.5));
    CHECK(inv.globals.trace);
    CHECK(inv.positional("manifest") == "m.toml");
}

TEST_CASE("a relative --store is made absolute against the current directory", "[cli][parse]") {
    auto inv = parse({"list", "--store", "rel/store"});
    CHECK(inv.globals.store.front() == '/');
    CHECK(inv.globals.store.ends_with("/rel/store"));
}

TEST_CASE("-v counts its repetitions, also when clustered", "[cli][parse]") {
    CHECK(parse({"-v", "list", "-v"}).globals.verbosity == 2);
    CHECK(parse({"-vvv", "list"}).globals.verbosity == 3);
    CHECK(parse({"list", "--verbose"}).globals.verbosity == 1);
}

TEST_CASE("an omitted positional argument takes its default from the table", "[cli][parse]") {
    auto inv = parse({"build"});
    CHECK_FALSE(inv.has_positional("manifest"));
    CHECK(inv.positional("manifest") == "./karapace.toml");
    CHECK(parse({"man-pages"}).positional("dir") == "./man");
}

TEST_CASE("command flags are recorded with their values", "[cli][parse]") {
    auto inv = parse({"build", "--name", "web", "--locked", "--offline"});
    CHECK(inv.value("name") == "web");
    CHECK(inv.flag("locked"));
    CHECK(inv.flag("offline"));
    CHECK_FALSE(inv.flag("require-pinned-image"));
    CHECK(parse({"stop", "web"}).value("timeout") == "10");
    CHECK(parse({"stop", "web", "-t", "3"}).value("timeout") == "3");
}

TEST_CASE("everything after -- is kept verbatim as the command to run", "[cli][parse]") {
    auto inv = parse({"exec", "web", "--json", "--", "ls", "-la", "--json", "--", "x"});
    CHECK(inv.globals.json);
    CHECK(inv.positional("env") == "web");
    CHECK(inv.has_separator);
    CHECK(inv.trailing == std::vector<std::string>{"ls", "-la", "--json", "--", "x"});
}

TEST_CASE("enter takes an optional command after --", "[cli][parse]") {
    CHECK(parse({"enter", "web"}).trailing.empty());
    CHECK(parse({"enter", "--root", "web", "--", "id", "-u"}).trailing ==
          std::vector<std::string>{"id", "-u"});
}

TEST_CASE("--env may be repeated and keeps every value in order", "[cli][parse]") {
    auto inv = parse({"exec", "--env", "A=1", "web", "-e", "B=2", "--env=C=3", "--", "env"});
    CHECK(inv.values("env") == std::vector<std::string>{"A=1", "B=2", "C=3"});
}

TEST_CASE("for commands without a command line, -- only ends the options", "[cli][parse]") {
    auto inv = parse({"rename", "--", "web", "-odd-name"});
    CHECK(inv.positional("env") == "web");
    CHECK(inv.positional("new-name") == "-odd-name");
}

TEST_CASE("an unknown option is a usage error with a suggestion and a help hint", "[cli][parse]") {
    Error e = usage_error_of({"build", "--nmae", "x"});
    CHECK(e.code() == Errc::usage);
    CHECK(exit_code(e.code()) == 64);
    CHECK_THAT(e.what(), Catch::Contains("--nmae"));
    CHECK_THAT(e.hint(), Catch::Contains("--name"));
    CHECK_THAT(e.hint(), Catch::Contains("karapace help build"));
}

TEST_CASE("options are never abbreviated", "[cli][parse]") {
    Error e = usage_error_of({"destroy", "web", "--for"});
    CHECK(e.code() == Errc::usage);
    CHECK_THAT(e.hint(), Catch::Contains("--force"));
}

TEST_CASE("a command's option before the command is refused with a pointer", "[cli][parse]") {
    Error e = usage_error_of({"--force", "destroy", "web"});
    CHECK(e.code() == Errc::usage);
    CHECK_THAT(e.hint(), Catch::Contains("after the command"));
}

TEST_CASE("an unknown command suggests the closest one", "[cli][parse]") {
    Error e = usage_error_of({"biuld"});
    CHECK(e.code() == Errc::usage);
    CHECK_THAT(e.what(), Catch::Contains("unknown command 'biuld'"));
    CHECK_THAT(e.hint(), Catch::Contains("`build`"));
    CHECK_THAT(usage_error_of({"verify"}).hint(), Catch::Contains("verify-store"));
}

TEST_CASE("a missing required argument is a usage error naming it", "[cli][parse]") {
    Error e = usage_error_of({"rename", "web"});
    CHECK(e.code() == Errc::usage);
    CHECK_THAT(e.what(), Catch::Contains("NEW_NAME"));
    CHECK_THAT(e.hint(), Catch::Contains("karapace help rename"));
}

TEST_CASE("exec without a command after -- is a usage error", "[cli][parse]") {
    CHECK(usage_error_of({"exec", "web"}).code() == Errc::usage);
    CHECK(usage_error_of({"exec", "web", "--"}).code() == Errc::usage);
    Error e = usage_error_of({"exec", "web", "ls"});
    CHECK_THAT(e.what(), Catch::Contains("unexpected argument 'ls'"));
    CHECK_THAT(e.hint(), Catch::Contains("--"));
}

TEST_CASE("--help skips the checks for missing arguments", "[cli][parse]") {
    auto inv = parse({"exec", "--help"});
    CHECK(inv.globals.help);
    CHECK(inv.command->name == "exec");
}

TEST_CASE("values are validated against their type", "[cli][parse]") {
    CHECK(usage_error_of({"list", "--lock-timeout", "soon"}).code() == Errc::usage);
    CHECK(usage_error_of({"list", "--lock-timeout", "-1"}).code() == Errc::usage);
    CHECK(usage_error_of({"stop", "web", "--timeout", "1x"}).code() == Errc::usage);
    Error shell = usage_error_of({"completions", "tcsh"});
    CHECK_THAT(shell.hint(), Catch::Contains("bash, zsh, fish"));
    CHECK_THAT(usage_error_of({"completions", "bahs"}).hint(), Catch::Contains("'bash'"));
    CHECK_THAT(usage_error_of({"help", "bulid"}).hint(), Catch::Contains("'build'"));
}

TEST_CASE("a value option given twice is refused", "[cli][parse]") {
    CHECK_THAT(usage_error_of({"build", "--name", "a", "--name", "b"}).what(),
               Catch::Contains("more than once"));
    CHECK_THAT(usage_error_of({"--store", "/a", "list", "--store", "/b"}).what(),
               Catch::Contains("more than once"));
}

TEST_CASE("a boolean flag given a value is refused", "[cli][parse]") {
    CHECK(usage_error_of({"gc", "--dry-run=yes"}).code() == Errc::usage);
}

TEST_CASE("too many arguments are refused", "[cli][parse]") {
    CHECK_THAT(usage_error_of({"list", "extra"}).what(), Catch::Contains("'extra'"));
}

TEST_CASE("--version and --help need no command", "[cli][parse]") {
    CHECK(parse({"--version"}).globals.version);
    CHECK(parse({"--help"}).globals.help);
    CHECK(parse({"-h"}).command == nullptr);
    CHECK(parse({}).command == nullptr);
}

TEST_CASE("wants_json looks for --json only before --", "[cli][parse]") {
    CHECK(wants_json({"build", "--json"}));
    CHECK_FALSE(wants_json({"exec", "web", "--", "tool", "--json"}));
}

TEST_CASE("a variadic positional takes every remaining argument", "[cli][parse]") {
    auto inv = parse({"export", "web", "firefox", "org.gnome.TextEditor", "--bin", "rg", "--json"});
    CHECK(inv.positional("env") == "web");
    CHECK(inv.positional_list("app") ==
          std::vector<std::string>{"firefox", "org.gnome.TextEditor"});
    CHECK(inv.values("bin") == std::vector<std::string>{"rg"});
    CHECK(inv.globals.json);
    CHECK(parse({"export", "web"}).positional_list("app").empty());
}

TEST_CASE("a variadic positional refuses an empty argument", "[cli][parse]") {
    auto e = usage_error_of({"export", "web", "firefox", ""});
    CHECK(e.code() == Errc::usage);
    CHECK_THAT(e.what(), Catch::Contains("APP"));
}

TEST_CASE("short switches cluster, and a short option takes its value written on or next",
          "[cli][parse]") {
    auto inv = parse({"-vh", "list"});
    CHECK(inv.globals.verbosity == 1);
    CHECK(inv.globals.help);
    CHECK(parse({"exec", "-eA=B", "-e", "C=D", "web", "--", "ls"}).values("env") ==
          std::vector<std::string>{"A=B", "C=D"});
    CHECK(parse({"stop", "-t5", "web"}).value("timeout") == "5");
    CHECK(parse({"exec", "web", "--env=X=1=2", "--", "ls"}).values("env") ==
          std::vector<std::string>{"X=1=2"});
    CHECK_THAT(usage_error_of({"-vx", "list"}).what(), Catch::Contains("unknown option '-vx'"));
}

TEST_CASE("a value is taken as written, even one that starts with a dash", "[cli][parse]") {
    CHECK(parse({"exec", "web", "--env", "--json", "--", "ls"}).values("env") ==
          std::vector<std::string>{"--json"});
    CHECK_FALSE(parse({"exec", "web", "--env", "--json", "--", "ls"}).globals.json);
    CHECK(parse({"exec", "web", "-e", "-", "--", "ls"}).values("env") ==
          std::vector<std::string>{"-"});
}

TEST_CASE("an option without its value is a usage error naming what it needs", "[cli][parse]") {
    Error missing = usage_error_of({"exec", "web", "-e"});
    CHECK(missing.code() == Errc::usage);
    CHECK_THAT(missing.what(), Catch::Contains("--env needs a value (K=V)"));
    CHECK_THAT(usage_error_of({"list", "--store"}).what(),
               Catch::Contains("--store needs a value"));
    CHECK_THAT(usage_error_of({"list", "--store="}).what(),
               Catch::Contains("--store needs a non-empty"));
    CHECK_THAT(usage_error_of({"list", "--json=1"}).what(),
               Catch::Contains("--json takes no value, not '1'"));
}

TEST_CASE("a lone dash and an empty argument are positionals", "[cli][parse]") {
    CHECK_THAT(usage_error_of({"list", "-"}).what(), Catch::Contains("unexpected argument '-'"));
    CHECK(parse({"exec", "-", "--", "ls"}).positional("env") == "-");
}
