#include <catch2/catch.hpp>

#include <cerrno>

#include "karapace/util/error.hpp"

using karapace::Errc;

TEST_CASE("error categories map to the documented exit codes") {
    CHECK(karapace::exit_code(Errc::failed) == 1);
    CHECK(karapace::exit_code(Errc::manifest) == 2);
    CHECK(karapace::exit_code(Errc::store) == 3);
    CHECK(karapace::exit_code(Errc::usage) == 64);
    CHECK(karapace::exit_code(Errc::not_found) == 1);
}

TEST_CASE("error categories map to org.karapace.Error names") {
    CHECK(karapace::dbus_error_name(Errc::not_found) == "org.karapace.Error.NotFound");
    CHECK(karapace::dbus_error_name(Errc::manifest) == "org.karapace.Error.InvalidManifest");
    CHECK(karapace::dbus_error_name(Errc::store) == "org.karapace.Error.StoreCorrupt");
    CHECK(karapace::dbus_error_name(Errc::runtime) == "org.karapace.Error.Failed");
}

TEST_CASE("errno errors say what failed and pick a category") {
    try {
        karapace::throw_errno(Errc::store, "cannot open /x", EACCES);
    } catch (const karapace::Error& e) {
        CHECK(e.code() == Errc::permission);
        CHECK(std::string(e.what()) == "cannot open /x: Permission denied");
    }
    try {
        karapace::throw_errno(Errc::store, "cannot write /y", ENOSPC);
    } catch (const karapace::Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK_FALSE(e.hint().empty());
    }
}
