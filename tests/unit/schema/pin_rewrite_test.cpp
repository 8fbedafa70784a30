#include <catch2/catch.hpp>

#include <string>

#include "karapace/schema/manifest.hpp"
#include "karapace/schema/pin_rewrite.hpp"
#include "karapace/schema/templates.hpp"
#include "karapace/util/error.hpp"

using karapace::Errc;
using karapace::Error;
using namespace karapace::schema;

namespace {
const std::string pinned =
    "https://images.example.org/debian/bookworm/amd64/default/20261128_05:24/rootfs.tar.xz"
    "#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
}

TEST_CASE("pin rewrites only the image value and keeps comments, spacing and order") {
    const std::string before =
        "# my environment\n"
        "manifest_version = 1   # always 1\n"
        "\n"
        "[base]\n"
        "# which distro\n"
        "image   =   \"debian/bookworm\"    # Debian 12\n"
        "\n"
        "[system]\n"
        "packages = [\"git\"]  # tools\n";
    const std::string after =
        "# my environment\n"
        "manifest_version = 1   # always 1\n"
        "\n"
        "[base]\n"
        "# which distro\n"
        "image   =   \"" +
        pinned +
        "\"    # Debian 12\n"
        "\n"
        "[system]\n"
        "packages = [\"git\"]  # tools\n";
    CHECK(rewrite_base_image(before, "karapace.toml", pinned) == after);
}

TEST_CASE("a literal string stays literal, and switches to basic when the value needs escaping") {
    const std::string text = "manifest_version = 1\n[base]\nimage = 'rolling' # tw\n";
    CHECK(rewrite_base_image(text, "k.toml", "opensuse/tumbleweed") ==
          "manifest_version = 1\n[base]\nimage = 'opensuse/tumbleweed' # tw\n");
    std::string odd = "file:///srv/it's.tar";
    std::string out = rewrite_base_image(text, "k.toml", odd);
    CHECK(out == "manifest_version = 1\n[base]\nimage = \"file:///srv/it's.tar\" # tw\n");
    CHECK(parse_manifest(out, "k.toml").base_image == odd);
}

TEST_CASE("quotes and backslashes in the new image are escaped") {
    const std::string text = "manifest_version = 1\n[base]\nimage = \"x\"\n";
    std::string image = "https://example.org/a\"b\\c";
    std::string out = rewrite_base_image(text, "k.toml", image);
    CHECK(out == "manifest_version = 1\n[base]\nimage = \"https://example.org/a\\\"b\\\\c\"\n");
    CHECK(parse_manifest(out, "k.toml").base_image == image);
}

TEST_CASE("pin works with dotted keys, inline tables, multi-line strings, CRLF and a BOM") {
    CHECK(rewrite_base_image("manifest_version = 1\nbase.image = \"a\" #c\n", "k", "b") ==
          "manifest_version = 1\nbase.image = \"b\" #c\n");
    CHECK(rewrite_base_image("manifest_version = 1\nbase = { image = \"a\" }\n", "k", "b") ==
          "manifest_version = 1\nbase = { image = \"b\" }\n");
    CHECK(rewrite_base_image("manifest_version = 1\n[base]\nimage = \"\"\"a\"\"\"\n", "k", "b") ==
          "manifest_version = 1\n[base]\nimage = \"b\"\n");
    CHECK(rewrite_base_image("manifest_version = 1\r\n[base]\r\nimage = \"a\"\r\n", "k", "b") ==
          "manifest_version = 1\r\n[base]\r\nimage = \"b\"\r\n");
    CHECK(rewrite_base_image("\xEF\xBB\xBFmanifest_version = 1\n[base]\nimage = \"a\"\n", "k",
                             "b") == "\xEF\xBB\xBFmanifest_version = 1\n[base]\nimage = \"b\"\n");
    CHECK_THROWS_AS(rewrite_base_image("[base]\nimage = \"a\"\n", "k", "b"), Error);
}

TEST_CASE("pinning every template changes only the image") {
    for (const auto& t : templates()) {
        INFO(t.name);
        std::string out = rewrite_base_image(t.text, t.name, pinned);
        Manifest before = parse_manifest(t.text, t.name);
        Manifest after = parse_manifest(out, t.name);
        CHECK(after.base_image == pinned);
        after.base_image = before.base_image;
        CHECK(after == before);
        CHECK(out.size() == t.text.size() - before.base_image.size() + pinned.size());
    }
}

TEST_CASE("pin refuses an invalid manifest or an invalid image") {
    try {
        rewrite_base_image("manifest_version = 1\n[base]\nimage = \"a\"\ngpux = 1\n", "k.toml",
                           "b");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        CHECK(std::string(e.what()).rfind("k.toml:4:1:", 0) == 0);
    }
    const std::string ok = "manifest_version = 1\n[base]\nimage = \"a\"\n";
    CHECK_THROWS_AS(rewrite_base_image(ok, "k.toml", ""), Error);
    CHECK_THROWS_AS(rewrite_base_image(ok, "k.toml", "a\nb"), Error);
    CHECK_THROWS_AS(rewrite_base_image(ok, "k.toml", "a b"), Error);
}

TEST_CASE("pin finds base.image below a long one-line array") {
    std::string list;
    for (int i = 0; i < 2000; ++i)
        list += (i == 0 ? "\"p" : ", \"p") + std::to_string(i) + "\"";
    const std::string text = "manifest_version = 1\nsystem.packages = [" + list +
                             "]\n[base]\nimage = \"debian/bookworm\"\n";
    CHECK(rewrite_base_image(text, "k.toml", pinned) ==
          "manifest_version = 1\nsystem.packages = [" + list + "]\n[base]\nimage = \"" + pinned +
              "\"\n");
}
