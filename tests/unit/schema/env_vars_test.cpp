#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "karapace/schema/env_vars.hpp"

using namespace karapace::schema;

namespace {

std::string expand(std::string_view value, const std::map<std::string, std::string>& env) {
    return expand_env_value(value, [&](std::string_view name) -> const std::string* {
        auto it = env.find(std::string(name));
        return it == env.end() ? nullptr : &it->second;
    });
}

}  // namespace

TEST_CASE("$NAME and ${NAME} expand to the session's value, an unset one to nothing") {
    const std::map<std::string, std::string> env{{"HOME", "/home/u"}, {"PATH", "/usr/bin:/bin"}};
    CHECK(expand("$HOME/.local/bin:$PATH", env) == "/home/u/.local/bin:/usr/bin:/bin");
    CHECK(expand("${HOME}x", env) == "/home/ux");
    CHECK(expand("$HOMEx", env).empty());  // the name is the longest run of name characters
    CHECK(expand("a${UNSET}b$UNSET", env) == "ab");
    CHECK(expand("no references", env) == "no references");
}

TEST_CASE("$$ is a literal dollar, and an expanded value is not expanded again") {
    const std::map<std::string, std::string> env{{"A", "$HOME"}, {"HOME", "/h"}};
    CHECK(expand("$$5", env) == "$5");
    CHECK(expand("$$HOME", env) == "$HOME");
    CHECK(expand("$$$HOME", env) == "$/h");
    CHECK(expand("$A", env) == "$HOME");
}

TEST_CASE("a '$' that starts no reference is refused, with what follows it") {
    for (const char* bad :
         {"$", "a$", "$(date)", "$1", "${", "${A", "${A:-x}", "${}", "$-", "${1A}"}) {
        INFO(bad);
        auto problem = env_value_problem(bad);
        CHECK(problem.rfind("has a '$' that starts no variable reference: \"$", 0) == 0);
    }
    CHECK(env_value_problem("start $(a-very-long-command-line)").find("\"$(a-very-lon…\"") !=
          std::string::npos);
}

TEST_CASE("a valid value lists the names it refers to") {
    std::vector<std::string> refs;
    CHECK(env_value_problem("$A:${B_2}:$$C:$_d", &refs).empty());
    CHECK(refs == std::vector<std::string>{"A", "B_2", "_d"});
}

TEST_CASE("a value is one line without control characters; a tab is allowed") {
    CHECK(env_value_problem(std::string("a\0b", 3)) == "contains a NUL character");
    CHECK(env_value_problem("a\nb").find("line break") != std::string::npos);
    CHECK(env_value_problem("a\rb").find("line break") != std::string::npos);
    CHECK(env_value_problem("a\x1b[0m") == "contains a control character");
    CHECK(env_value_problem("a\tb").empty());
    CHECK(env_value_problem("").empty());
    CHECK(env_value_problem("ünïcode ✓").empty());
}

TEST_CASE("variable names: letters, digits and '_', not first a digit; the sandbox's are kept") {
    CHECK(valid_variable_name("EDITOR"));
    CHECK(valid_variable_name("_x9"));
    CHECK_FALSE(valid_variable_name(""));
    CHECK_FALSE(valid_variable_name("9A"));
    CHECK_FALSE(valid_variable_name("MY-VAR"));
    CHECK_FALSE(valid_variable_name("A=B"));
    CHECK(env_name_problem("PATH").empty());
    CHECK(env_name_problem("LANG").empty());
    CHECK(env_name_problem("MY-VAR").find("is not a variable name") != std::string::npos);
    CHECK(env_name_problem("").rfind("the empty name is not", 0) == 0);
    const std::vector<std::string> kept{"DBUS_SESSION_BUS_ADDRESS",
                                        "DISPLAY",
                                        "HOME",
                                        "KARAPACE_ENV",
                                        "LOGNAME",
                                        "PULSE_SERVER",
                                        "SSH_AUTH_SOCK",
                                        "USER",
                                        "WAYLAND_DISPLAY",
                                        "XAUTHORITY",
                                        "XDG_RUNTIME_DIR",
                                        "container"};
    CHECK(reserved_env_names() == kept);
    for (const auto& name : kept)
        CHECK(env_name_problem(name).rfind(name + " ", 0) == 0);
}

TEST_CASE("a hook command is anything sh can run: not blank, no NUL or other control bytes") {
    CHECK(hook_command_problem("make install").empty());
    CHECK(hook_command_problem("set -e\n\tmake\n").empty());
    CHECK(hook_command_problem("") == "is empty");
    CHECK(hook_command_problem(" \t\n") == "is empty");
    CHECK(hook_command_problem(std::string("a\0b", 3)).find("NUL") != std::string::npos);
    CHECK(hook_command_problem("a\rb").find("control character") != std::string::npos);
    CHECK(hook_command_problem("a\x7f").find("control character") != std::string::npos);
}
