#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>

#include <filesystem>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
    char tmpl[] = "/tmp/karapace-atomic-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    return tmpl;
}
std::size_t entries(const fs::path& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST_CASE("atomic write replaces the file and leaves no temp file behind") {
    auto dir = temp_dir();
    auto path = (dir / "record.json").string();
    karapace::write_file_atomic(path, "one");
    karapace::write_file_atomic(path, "two", 0600);
    CHECK(karapace::read_file(path) == "two");
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(entries(dir) == 1);
    fs::remove_all(dir);
}

TEST_CASE("an atomic file that is never committed leaves the old content") {
    auto dir = temp_dir();
    auto path = (dir / "f").string();
    karapace::write_file_atomic(path, "old");
    {
        karapace::AtomicFile f(path);
        f.write("new but abandoned");
    }
    CHECK(karapace::read_file(path) == "old");
    CHECK(entries(dir) == 1);
    fs::remove_all(dir);
}

TEST_CASE("atomic write into a missing directory names the path") {
    try {
        karapace::write_file_atomic("/nonexistent-dir-karapace/x", "data");
        FAIL("expected an error");
    } catch (const karapace::Error& e) {
        CHECK(std::string(e.what()).find("/nonexistent-dir-karapace/x") != std::string::npos);
    }
}
