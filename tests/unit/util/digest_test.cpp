#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "util/sha256_small.hpp"

using karapace::Digest;

TEST_CASE("sha256 of known inputs matches the published vectors") {
    CHECK(karapace::sha256("").hex() ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(karapace::sha256("abc").str() ==
          "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("short inputs hashed without OpenSSL give the published digests") {
    // 56 bytes: the length no longer fits in the first padding block.
    CHECK(karapace::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex() ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(karapace::sha256(std::string(1000000, 'a')).hex() ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK(karapace::detail::sha256_small(std::string(1000000, 'a')) ==
          karapace::sha256(std::string(1000000, 'a')).bytes());
}

TEST_CASE("the built-in and the OpenSSL hashers agree on every length around the block size") {
    std::string data;
    for (std::size_t n = 0; n <= 300; ++n) {
        karapace::Sha256 h;
        h.update(data);
        INFO("length " << n);
        REQUIRE(karapace::detail::sha256_small(data) == h.finish().bytes());
        data.push_back(static_cast<char>((n * 131 + 7) & 0xff));
    }
}

TEST_CASE("streaming updates give the same digest as one update") {
    karapace::Sha256 h;
    h.update("a");
    h.update("bc");
    CHECK(h.finish() == karapace::sha256("abc"));
}

TEST_CASE("digest text round-trips and bad text is refused") {
    auto d = karapace::sha256("x");
    CHECK(Digest::parse(d.str()) == d);
    CHECK(Digest::from_hex(d.hex()) == d);
    CHECK_THROWS_AS(Digest::parse(d.hex()), karapace::Error);
    CHECK_THROWS_AS(Digest::parse("sha256:XYZ"), karapace::Error);
    CHECK_THROWS_AS(Digest::from_hex(std::string(64, 'G')), karapace::Error);
    CHECK_FALSE(Digest::is_hex(std::string(63, 'a')));
}

TEST_CASE("sha256_file streams a file larger than the buffer") {
    char tmpl[] = "/tmp/karapace-digest-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    std::string data(3 * 1024 * 1024 + 7, 'q');
    REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    close(fd);
    CHECK(karapace::sha256_file(tmpl) == karapace::sha256(data));
    unlink(tmpl);
    CHECK_THROWS_AS(karapace::sha256_file(tmpl), karapace::Error);
}
