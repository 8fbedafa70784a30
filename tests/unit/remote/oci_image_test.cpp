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
    CHECK_THROWS_WITH(parse_manifest(replace(built.manifest, "v1.tar\"", "v1.tar+bzip2\""),
                                     oci_manifest_media_type, "ref"),
                      Catch::Contains("tar+bzip2"));
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

namespace {

// The manifest a mirror writes: every layer gzip-compressed under a Docker media type (its blob
// digest the hash of `blob`), annotations gone; the config kept as it is.
std::string mirrored_manifest(const BuiltImage& built, const EnvImage& img) {
    boost::json::array layers;
    for (const auto& l : img.layers)
        layers.push_back(
            boost::json::object{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                                {"digest", sha256("gz:" + l.digest.str()).str()},
                                {"size", 10}});
    return boost::json::serialize(boost::json::object{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
        {"config",
         boost::json::object{{"mediaType", "application/vnd.docker.container.image.v1+json"},
                             {"digest", built.config_digest.str()},
                             {"size", built.config.size()}}},
        {"layers", layers}});
}

}  // namespace

TEST_CASE("a mirrored environment image: compressed layers, roles and digests from the config") {
    auto img = sample();
    auto built = build_image(img);
    auto parsed = parse_manifest(mirrored_manifest(built, img), "", "ref");
    REQUIRE(parsed.layers.size() == 3);
    CHECK(parsed.layers[0].compressed);
    CHECK(parsed.layers[0].blob == sha256("gz:" + img.layers[0].digest.str()));
    CHECK(parsed.layers[0].blob_size == 10);
    auto back = parse_config(built.config, parsed, "ref");
    REQUIRE(back.layers.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(back.layers[i].digest == img.layers[i].digest);
        CHECK(back.layers[i].role == img.layers[i].role);
        CHECK(back.layers[i].blob == sha256("gz:" + img.layers[i].digest.str()));
    }
    CHECK(back.env_id == img.env_id);

    // Pushed before the roles label existed: the history names them.
    auto old_config =
        replace(built.config, ",\"org.karapace.layers\":\"base packages snapshot\"", "");
    REQUIRE(old_config.find(label_layers) == std::string::npos);
    auto old_parsed = parse_manifest(mirrored_manifest(build_image(img), img), "", "ref");
    old_parsed.config_digest = sha256(old_config);
    back = parse_config(old_config, old_parsed, "ref");
    CHECK(back.layers[1].role == LayerRole::packages);
    CHECK(back.layers[2].role == LayerRole::snapshot);
    // ... and without history either, nothing says what a layer is.
    CHECK_THROWS_WITH(
        parse_config(replace(old_config, "karapace: packages", "RUN x"), old_parsed, "ref"),
        Catch::Contains("layer 2 has no role"));
    // A label with the roles out of order is refused.
    CHECK_THROWS_WITH(
        parse_config(replace(built.config, "base packages snapshot", "packages base snapshot"),
                     parsed, "ref"),
        Catch::Contains("base layer must come first"));
    // A diff_id that is no digest.
    CHECK_THROWS_WITH(
        parse_config(replace(built.config, sha256("pkgs").str(), "sha256:zz"), parsed, "ref"),
        Catch::Contains("diff_id 2"));
}

TEST_CASE("architecture names follow OCI") {
    CHECK(oci_architecture("amd64") == "amd64");
    CHECK(oci_architecture("armhf") == "arm");
    CHECK(oci_architecture("i386") == "386");
    CHECK(oci_architecture("ppc64el") == "ppc64le");
}
