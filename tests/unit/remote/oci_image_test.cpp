#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "karapace/remote/oci_image.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::remote;

namespace {

EnvImage sample() {
    EnvImage img;
    img.env_id = std::string(64, 'e');
    img.name = "web";
    img.lock_text = "lock_version = 3\n";
    img.manifest_json = R"({"base":"x"})";
    img.architecture = "amd64";
    img.layers = {{sha256("base"), 4, LayerRole::base},
                  {sha256("pkgs"), 4, LayerRole::packages},
                  {sha256("snap"), 4, LayerRole::snapshot}};
    return img;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("an environment image is an OCI manifest and config that read back the same") {
    auto built = build_image(sample());
    CHECK(built.config_digest == sha256(built.config));
    CHECK(built.manifest_digest == sha256(built.manifest));
    auto parsed = parse_manifest(built.manifest, oci_manifest_media_type, "ref");
    CHECK(parsed.config_digest == built.config_digest);
    CHECK(parsed.config_size == built.config.size());
    CHECK(parsed.layers == sample().layers);
    auto back = parse_config(built.config, parsed, "ref");
    CHECK(back.env_id == sample().env_id);
    CHECK(back.name == "web");
    CHECK(back.lock_text == sample().lock_text);
    CHECK(back.manifest_json == sample().manifest_json);
    CHECK(back.architecture == "amd64");

    auto m = boost::json::parse(built.manifest).as_object();
    CHECK(m.at("mediaType") == oci_manifest_media_type);
    CHECK(m.at("config").as_object().at("mediaType") == oci_config_media_type);
    auto c = boost::json::parse(built.config).as_object();
    CHECK(c.at("rootfs").as_object().at("diff_ids").as_array().size() == 3);
}

TEST_CASE("the same environment always gives the same manifest digest") {
    CHECK(build_image(sample()).manifest_digest == build_image(sample()).manifest_digest);
    auto other = sample();
    other.name = "";
    CHECK(build_image(other).manifest_digest != build_image(sample()).manifest_digest);
}

TEST_CASE("images that are not environments are refused with the reason") {
    auto built = build_image(sample());
    CHECK_THROWS_WITH(parse_manifest(R"({"schemaVersion":2,"manifests":[]})",
                                     "application/vnd.oci.image.index.v1+json", "ref"),
                      Catch::Contains("index"));
    CHECK_THROWS_WITH(parse_manifest(replace(built.manifest, "v1.tar\"", "v1.tar+gzip\""),
                                     oci_manifest_media_type, "ref"),
                      Catch::Contains("gzip"));
    CHECK_THROWS_WITH(parse_manifest(replace(built.manifest, "\"base\"", "\"packages\""),
                                     oci_manifest_media_type, "ref"),
                      Catch::Contains("base layer"));
    CHECK_THROWS_WITH(parse_manifest("not json", oci_manifest_media_type, "ref"),
                      Catch::Contains("not a karapace environment"));
    auto parsed = parse_manifest(built.manifest, oci_manifest_media_type, "ref");
    CHECK_THROWS_WITH(
        parse_config(replace(built.config, sha256("pkgs").str(), sha256("x").str()), parsed, "ref"),
        Catch::Contains("diff_id 2"));
    CHECK_THROWS_WITH(
        parse_config(replace(built.config, "org.karapace.lock", "other"), parsed, "ref"),
        Catch::Contains("org.karapace.lock"));
    CHECK_THROWS_WITH(parse_config(replace(built.config, "\"org.karapace.image-format\":\"1\"",
                                           "\"org.karapace.image-format\":\"9\""),
                                   parsed, "ref"),
                      Catch::Contains("does not know"));
}

TEST_CASE("architecture names follow OCI") {
    CHECK(oci_architecture("amd64") == "amd64");
    CHECK(oci_architecture("armhf") == "arm");
    CHECK(oci_architecture("i386") == "386");
    CHECK(oci_architecture("ppc64el") == "ppc64le");
}
