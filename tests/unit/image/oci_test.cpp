#include <catch2/catch.hpp>

#include "karapace/image/oci.hpp"
#include "karapace/util/error.hpp"

using karapace::Errc;
using karapace::Error;
using namespace karapace::image;

namespace {
const std::string hexa(64, 'a');
const std::string hexb(64, 'b');

std::string error_text(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        CHECK(e.code() == Errc::image);
        return e.what();
    }
    return "no error";
}

std::string entry(const std::string& arch, const std::string& variant, const std::string& hex) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:)" +
           hex + R"(","platform":{"os":"linux","architecture":")" + arch + R"(")" +
           (variant.empty() ? "" : R"(,"variant":")" + variant + R"(")") + "}}";
}
}  // namespace

TEST_CASE("an index gives the entry of this platform, preferring the exact variant") {
    std::string index = R"({"schemaVersion":2,"manifests":[)" + entry("arm64", "", hexa) + "," +
                        entry("arm64", "v8", hexb) + "," + entry("amd64", "", hexa) + "]}";
    CHECK(is_index("", index));
    CHECK(choose_platform(index, {"linux", "arm64", "v8"}, "x").hex() == hexb);
    CHECK(choose_platform(index, {"linux", "amd64", ""}, "x").hex() == hexa);
}

TEST_CASE("an index without this platform lists the platforms it has") {
    std::string index = R"({"schemaVersion":2,"manifests":[)" + entry("arm", "v7", hexa) + "," +
                        entry("s390x", "", hexb) + "]}";
    auto text = error_text([&] { choose_platform(index, {"linux", "amd64", ""}, "docker://r/x"); });
    CHECK(text.find("has no image for linux/amd64") != std::string::npos);
    CHECK(text.find("linux/arm/v7, linux/s390x") != std::string::npos);
}

TEST_CASE("schema 1 manifests and artifacts are refused with the reason") {
    auto text = error_text([] {
        parse_oci_manifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})",
                           "application/vnd.docker.distribution.manifest.v1+prettyjws", "x");
    });
    CHECK(text.find("schema 1") != std::string::npos);
    std::string artifact =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:)" +
        hexa + R"(","size":1},"layers":[]})";
    CHECK(error_text([&] {
              parse_oci_manifest(artifact, "", "x");
          }).find("not a container image") != std::string::npos);
}

TEST_CASE("a manifest's tar layers are read, other layer types refused") {
    auto manifest = [](const std::string& layer_type) {
        return R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
               hexa + R"(","size":7},"layers":[{"mediaType":")" + layer_type +
               R"(","digest":"sha256:)" + hexb + R"(","size":9}]})";
    };
    auto m = parse_oci_manifest(manifest("application/vnd.oci.image.layer.v1.tar+zstd"),
                                "application/vnd.oci.image.manifest.v1+json", "x");
    REQUIRE(m.layers.size() == 1);
    CHECK(m.layers[0].size == 9);
    CHECK(m.config_size == 7);
    CHECK(error_text([&] {
              parse_oci_manifest(
                  manifest("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), "", "x");
          }).find("karapace reads tar layers") != std::string::npos);
}

TEST_CASE("short names go to docker.io's library, or to the configured registry") {
    auto ref = ImageRef::parse("docker://ubuntu:24.04");
    CHECK(ref.registry == "docker.io");
    CHECK(ref.repository == "library/ubuntu");
    CHECK(ref.short_name);
    CHECK(registry_reference(ref).host == "registry-1.docker.io");
    Config config;
    config.registry = "quay.io";
    auto q = qualify(ref, config);
    CHECK(q.str() == "docker://quay.io/ubuntu:24.04");
    CHECK(qualify(ImageRef::parse("docker://127.0.0.1:5000/t/bb:v1"), config).registry ==
          "127.0.0.1:5000");
}

TEST_CASE("the image config gives diff_ids, Env, User and WorkingDir") {
    auto c = parse_oci_config(
        R"({"architecture":"amd64","os":"linux","config":{"Env":["A=1"],"User":"1000","WorkingDir":"/w"},"rootfs":{"type":"layers","diff_ids":["sha256:)" +
            hexa + R"("]}})",
        "x");
    CHECK(c.platform.architecture == "amd64");
    CHECK(c.diff_ids.size() == 1);
    CHECK(c.env == std::vector<std::string>{"A=1"});
    CHECK(c.user == "1000");
    CHECK(c.working_dir == "/w");
}
