#include <catch2/catch.hpp>

#include "fixture.hpp"
#include "karapace/image/cache.hpp"
#include "karapace/image/extract.hpp"
#include "karapace/image/resolve.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "store/record.hpp"

using namespace karapace::image;
using image_test::TempDir;

namespace {

karapace::Digest busybox_digest() { return karapace::sha256_file(image_test::fixtures().tarball); }

// The busybox tarball by its file:// URL, pinned to its digest: no server involved.
CachedImage fetch(const std::string& store, bool offline = false) {
    Config c;
    c.arch = image_test::fixtures().arch;
    auto ref = ImageRef::parse("file://" + image_test::fixtures().tarball +
                               "#sha256=" + busybox_digest().hex());
    return ensure(ref, store, c, karapace::null_progress(), offline);
}

// Leaves a file in the image directory: it is gone once the image has been fetched again.
std::string plant_sentinel(const CachedImage& img) {
    const std::string path = img.dir + "/sentinel";
    karapace::write_file_atomic(path, "still the old directory");
    return path;
}

}  // namespace

TEST_CASE("an unpacked image is recorded with the digest of its rootfs, in a sealed image.json") {
    TempDir store;
    auto img = fetch(store.path());
    REQUIRE(img.record.tree.has_value());
    CHECK(*img.record.tree == digest_rootfs(img.rootfs));
    CHECK(img.record.tree->entries > 10);
    const std::string path = img.dir + "/image.json";
    auto record = karapace::store::open_record(image_test::read_text(path), path);
    CHECK(record.contains("tree"));
    CHECK(record.at("tree").at("digest").as_string() == img.record.tree->digest.str());
    CHECK(ImageCache(store.path()).find(busybox_digest())->record.tree == img.record.tree);
}

TEST_CASE(
    "a cached image whose image.json was edited is not used, and the next fetch replaces it") {
    TempDir store;
    auto img = fetch(store.path());
    const std::string path = img.dir + "/image.json";
    std::string text = image_test::read_text(path);
    auto at = text.find("\"source\": \"url\"");
    REQUIRE(at != std::string::npos);
    text.replace(at, 15, "\"source\": \"lxc\"");
    karapace::write_file_atomic(path, text);
    auto sentinel = plant_sentinel(img);
    ImageCache cache(store.path());
    CHECK_FALSE(cache.find(busybox_digest()).has_value());

    auto again = fetch(store.path());
    CHECK_FALSE(image_test::exists(sentinel));
    CHECK(again.record.source == "url");
    REQUIRE(cache.find(busybox_digest()).has_value());
    CHECK(image_test::exists(again.rootfs + "/bin/busybox"));
}

TEST_CASE("an image marked damaged is not used until it is fetched again, which clears the mark") {
    TempDir store;
    auto img = fetch(store.path());
    ImageCache cache(store.path());
    CHECK_FALSE(cache.damage(busybox_digest()).has_value());
    cache.mark_damaged(busybox_digest(), "its root filesystem changed");
    CHECK(cache.damage(busybox_digest()) ==
          std::optional<std::string>("its root filesystem changed"));
    CHECK_FALSE(cache.find(busybox_digest()).has_value());
    auto sentinel = plant_sentinel(img);
    CHECK_THROWS_WITH(fetch(store.path(), true),
                      Catch::Contains("is damaged (its root filesystem changed), and offline mode "
                                      "forbids fetching it again"));

    auto again = fetch(store.path());
    CHECK_FALSE(image_test::exists(sentinel));
    CHECK_FALSE(cache.damage(busybox_digest()).has_value());
    REQUIRE(cache.find(busybox_digest()).has_value());
    CHECK(*again.record.tree == digest_rootfs(again.rootfs));
}

TEST_CASE("an image cached before tree digests is used offline and fetched again online") {
    TempDir store;
    auto img = fetch(store.path());
    // image.json as karapace wrote it before: no tree, no checksum.
    const std::string path = img.dir + "/image.json";
    auto record = karapace::json::parse(image_test::read_text(path), path).as_object();
    record.erase("tree");
    record.erase("checksum");
    karapace::write_file_atomic(path, karapace::json::pretty(record));
    auto sentinel = plant_sentinel(img);
    ImageCache cache(store.path());
    REQUIRE(cache.find(busybox_digest()).has_value());
    CHECK_FALSE(cache.find(busybox_digest())->record.tree.has_value());

    auto offline = fetch(store.path(), true);
    CHECK(image_test::exists(sentinel));
    CHECK_FALSE(offline.record.tree.has_value());

    auto online = fetch(store.path());
    CHECK_FALSE(image_test::exists(sentinel));
    REQUIRE(online.record.tree.has_value());
    CHECK(cache.find(busybox_digest())->record.tree == online.record.tree);
}
