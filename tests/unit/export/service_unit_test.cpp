#include "karapace/export/service_unit.hpp"

#include <catch2/catch.hpp>

#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::exports;

TEST_CASE("systemd_quote leaves plain words and doubles % and $", "[export][service]") {
    CHECK(systemd_quote("/usr/bin/env") == "/usr/bin/env");
    CHECK(systemd_quote("--port=8080") == "--port=8080");
    CHECK(systemd_quote("%h") == "%%h");
    CHECK(systemd_quote("$HOME") == "$$HOME");
}

TEST_CASE("systemd_quote double-quotes everything else with C escapes", "[export][service]") {
    CHECK(systemd_quote("") == "\"\"");
    CHECK(systemd_quote(";") == "\";\"");
    CHECK(systemd_quote("two words") == "\"two words\"");
    CHECK(systemd_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(systemd_quote("a\tb\nc") == "\"a\\tb\\nc\"");
    CHECK(systemd_quote(std::string("x\x01", 2)) == "\"x\\x01\"");
    CHECK(systemd_quote("'single'") == "\"'single'\"");
}

TEST_CASE("service names, restart policies, commands and sockets are checked",
          "[export][service]") {
    ServiceSpec ok{{"sleep", "1"}, false, "on-failure", {"127.0.0.1:8080"}};
    CHECK_NOTHROW(validate_service("db-1.main_x", ok));
    for (auto bad : {"", "-x", ".x", "a b", "a/b", "a%b", "a@b"})
        CHECK_THROWS_AS(validate_service(bad, ok), Error);
    CHECK_THROWS_AS(validate_service(std::string(65, 'a'), ok), Error);
    auto restart = ok;
    restart.restart = "sometimes";
    CHECK_THROWS_AS(validate_service("db", restart), Error);
    auto empty = ok;
    empty.command.clear();
    CHECK_THROWS_AS(validate_service("db", empty), Error);
    auto socket = ok;
    socket.sockets = {"127.0.0.1 8080"};
    CHECK_THROWS_AS(validate_service("db", socket), Error);
}

TEST_CASE("the service unit runs the command by env_id and names the environment",
          "[export][service]") {
    LaunchTarget t{"0123abcd", "dev", "/opt/karapace dir/karapace", "/srv/store"};
    ServiceSpec spec{{"api", "--root", "%h/x"}, true, "always", {"8080"}};
    auto text = service_unit_text("api", spec, t);
    CHECK_THAT(text, Catch::Contains("\nX-Karapace-Env=0123abcd\n"));
    CHECK_THAT(text, Catch::Contains("\nType=notify\n"));
    CHECK_THAT(text, Catch::Contains("\nRestart=always\n"));
    CHECK_THAT(text, Catch::Contains("\nExecStart=\"/opt/karapace dir/karapace\" --store "
                                     "/srv/store exec 0123abcd -- api --root %%h/x\n"));
    CHECK_THAT(text, Catch::Contains("\nRequires=karapace-dev-api.socket\n"));
    CHECK_THAT(text, Catch::Contains("\nAlso=karapace-dev-api.socket\n"));
    auto socket = socket_unit_text("api", spec, t);
    CHECK_THAT(socket, Catch::Contains("\nListenStream=8080\n"));
    CHECK_THAT(socket, Catch::Contains("\nX-Karapace-Env=0123abcd\n"));
    CHECK(exported_env_of(text) == "0123abcd");
}
