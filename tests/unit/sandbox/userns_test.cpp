#include "karapace/sandbox/userns.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::sandbox;

TEST_CASE("code run in a user namespace returns its status to the caller") {
    int status = run_in_userns([] { return ::getuid() == 0 ? 7 : 8; }, IdMapping::container_root);
    CHECK(status == 7);
}

TEST_CASE("keep-id leaves the caller's uid unchanged inside the namespace") {
    uid_t outside = ::getuid();
    int status =
        run_in_userns([outside] { return ::getuid() == outside ? 0 : 1; }, IdMapping::keep_id);
    CHECK(status == 0);
}

TEST_CASE("an error thrown in the namespace reaches the caller with its category and hint") {
    try {
        run_in_userns(
            []() -> int { throw Error(Errc::store, "cannot remove /x/y", "run gc again"); },
            IdMapping::container_root);
        FAIL("no error was rethrown");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()) == "cannot remove /x/y");
        CHECK(e.hint() == "run gc again");
    }
}

TEST_CASE("a foreign exception in the namespace becomes a generic failure") {
    try {
        run_in_userns([]() -> int { throw std::runtime_error("boom"); }, IdMapping::keep_id);
        FAIL("no error was rethrown");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::failed);
        CHECK(std::string(e.what()) == "boom");
    }
}
