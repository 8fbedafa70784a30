#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <string>

#include "karapace/util/error.hpp"
#include "store/read_ahead.hpp"

using namespace karapace;
using namespace karapace::store;

namespace {

std::string read_all(ReadAhead& ahead) {
    std::string out;
    const void* data = nullptr;
    while (std::size_t n = ahead.next(&data))
        out.append(static_cast<const char*>(data), n);
    return out;
}

}  // namespace

TEST_CASE("read-ahead hands over every byte in order, across more chunks than it buffers") {
    std::string source;
    for (int i = 0; i < 100000; ++i)
        source += static_cast<char>('a' + i % 23);
    std::size_t pos = 0;
    ReadAhead ahead(
        [&](char* buf, std::size_t cap) {
            // Odd sizes, smaller than the buffer: the reader must not assume full chunks.
            std::size_t n = std::min({cap, source.size() - pos, std::size_t{997}});
            std::memcpy(buf, source.data() + pos, n);
            pos += n;
            return n;
        },
        4096, 3);
    CHECK(read_all(ahead) == source);
    const void* data = nullptr;
    CHECK(ahead.next(&data) == 0);  // the end stays the end
}

TEST_CASE("read-ahead gives the bytes read before a failure, then the filler's error") {
    int calls = 0;
    ReadAhead ahead(
        [&](char* buf, std::size_t) -> std::size_t {
            if (++calls > 2) throw Error(Errc::image, "the compressed data is corrupt");
            buf[0] = 'x';
            return 1;
        },
        16, 2);
    const void* data = nullptr;
    CHECK(ahead.next(&data) == 1);
    CHECK(ahead.next(&data) == 1);
    CHECK_THROWS_WITH(ahead.next(&data), Catch::Contains("corrupt"));
}

TEST_CASE("a reader that stops early ends the read-ahead thread instead of waiting forever") {
    std::atomic<int> calls{0};
    {
        ReadAhead ahead(
            [&](char* buf, std::size_t cap) {
                ++calls;
                std::memset(buf, 'y', cap);
                return cap;  // an endless stream
            },
            64, 2);
        const void* data = nullptr;
        CHECK(ahead.next(&data) == 64);
    }  // the destructor must return
    CHECK(calls.load() >= 1);
}
