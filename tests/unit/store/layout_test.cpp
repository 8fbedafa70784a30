#include <catch2/catch.hpp>

#include "karapace/store/layout.hpp"
#include "karapace/store/store.hpp"
#include "karapace/util/error.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using karapace::store::test::TempDir;
using karapace::store::test::write_text;

TEST_CASE("opening a new root creates the format 4 layout and version file") {
    TempDir dir;
    Store::open(dir / "root");
    CHECK(read_format_version(Layout(dir / "root")) == format_version);
    for (const char* d : {"store/wal", "objects/sha256", "layers", "metadata", "staging", "env",
                          "layers-unpacked", "images"})
        CHECK(::access((dir / (std::string("root/") + d)).c_str(), F_OK) == 0);
    CHECK_NOTHROW(Store::open(dir / "root"));  // idempotent
}

TEST_CASE("a store of another format is refused with a pointer to karapace migrate") {
    TempDir dir;
    Store::open(dir.path());
    write_text(dir / "store/version", "{\"format_version\": 2}");
    try {
        Store::open(dir.path());
        FAIL("format 2 store opened");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(exit_code(e.code()) == 3);
        CHECK(std::string(e.what()).find("format 2") != std::string::npos);
        CHECK(e.hint().find("karapace migrate") != std::string::npos);
    }
    write_text(dir / "store/version", "{\"format_version\": 9}");
    CHECK_THROWS_AS(Store::open(dir.path()), Error);
}

TEST_CASE("opening a missing store in existing mode is not_found") {
    TempDir dir;
    try {
        Store::open(dir / "nothing", OpenMode::existing);
        FAIL("opened a missing store");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::not_found);
    }
}

TEST_CASE("environment ids are 64 lower-case hex characters") {
    CHECK(EnvId::valid(std::string(64, 'a')));
    CHECK_FALSE(EnvId::valid(std::string(64, 'A')));
    CHECK_FALSE(EnvId::valid(std::string(63, 'a')));
    CHECK_FALSE(EnvId::valid("../../etc/passwd"));
    CHECK_THROWS_AS(EnvId::parse("abc"), Error);
    CHECK(EnvId::parse(std::string(64, 'b')).short_id() == std::string(12, 'b'));
}

TEST_CASE("store-relative paths cannot leave the root") {
    Layout l("/srv/k");
    CHECK(l.resolve("env/x") == "/srv/k/env/x");
    CHECK_THROWS_AS(l.resolve("/etc/passwd"), Error);
    CHECK_THROWS_AS(l.resolve("env/../../etc"), Error);
    CHECK_THROWS_AS(l.resolve(""), Error);
    CHECK_THROWS_AS(l.resolve("env//x"), Error);
    CHECK(l.relative("/srv/k/env/x") == "env/x");
    CHECK_THROWS_AS(l.relative("/srv/kk/env"), Error);
    CHECK_THROWS_AS(l.relative("/srv/k"), Error);
}
