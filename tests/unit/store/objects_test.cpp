#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "karapace/store/objects.hpp"
#include "karapace/store/store.hpp"
#include "karapace/util/error.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using karapace::store::test::TempDir;

TEST_CASE("an object put from memory reads back verified under its sha256 name") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Digest d = s.objects().put("hello world");
    CHECK(d == sha256("hello world"));
    CHECK(s.objects().exists(d));
    CHECK(s.objects().get(d) == "hello world");
    CHECK(s.objects().size(d) == 11);
    CHECK(::access((dir / ("objects/sha256/" + d.hex())).c_str(), F_OK) == 0);
}

TEST_CASE("putting the same content twice yields one object and no temp files") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Digest a = s.objects().put("same");
    Digest b = s.objects().put("same");
    CHECK(a == b);
    CHECK(s.objects().list().size() == 1);
    CHECK(karapace::store::test::entries(dir / "objects/sha256").size() == 1);
}

TEST_CASE("an object streamed from a file descriptor is hashed while written") {
    TempDir dir;
    Store s = Store::open(dir.path());
    std::string big(3 * 1024 * 1024 + 17, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096)
        big[i] = static_cast<char>(i / 4096);
    karapace::store::test::write_text(dir / "input", big);
    UniqueFd fd(::open((dir / "input").c_str(), O_RDONLY));
    Digest d = s.objects().put_fd(fd.get());
    CHECK(d == sha256(big));
    UniqueFd r = s.objects().open(d);
    CHECK(sha256_fd(r.get()) == d);
}

TEST_CASE("a corrupted object is refused on read with its path") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Digest d = s.objects().put("precious data");
    karapace::store::test::flip_byte(s.layout().object_path(d), 3);
    try {
        s.objects().get(d);
        FAIL("corrupt object was returned");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find(s.layout().object_path(d)) != std::string::npos);
    }
    CHECK_THROWS_AS(s.objects().open(d), Error);
}

TEST_CASE("a missing object is not_found and removing it is harmless") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Digest d = sha256("never stored");
    try {
        s.objects().get(d);
        FAIL("missing object returned");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::not_found);
    }
    CHECK_NOTHROW(s.objects().remove(d));
    Digest e = s.objects().put("x");
    s.objects().remove(e);
    CHECK_FALSE(s.objects().exists(e));
}

TEST_CASE("an abandoned object writer leaves nothing behind") {
    TempDir dir;
    Store s = Store::open(dir.path());
    {
        ObjectWriter w = s.objects().writer();
        w.write("partial");
    }
    CHECK(s.objects().list().empty());
    CHECK(karapace::store::test::entries(dir / "objects/sha256").empty());
}
