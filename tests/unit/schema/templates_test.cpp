#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "karapace/schema/manifest.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/schema/templates.hpp"
#include "test_data.hpp"

using namespace karapace::schema;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TEST_CASE("the six templates exist in order with unique names and descriptions") {
    std::vector<std::string> names;
    for (const auto& t : templates()) {
        names.push_back(t.name);
        CHECK_FALSE(t.description.empty());
    }
    CHECK(names == std::vector<std::string>{"minimal", "dev", "gui-dev", "rust-dev", "ubuntu-dev",
                                            "debian-dev"});
    CHECK(find_template("rust-dev") == &templates()[3]);
    CHECK(find_template("gaming") == nullptr);
    CHECK(find_template("") == nullptr);
}

TEST_CASE("examples/<name>.toml is byte-identical to each template") {
    for (const auto& t : templates()) {
        INFO(t.name);
        CHECK(schema_test::slurp(schema_test::source_root() + "/examples/" + t.name + ".toml") ==
              t.text);
    }
}

TEST_CASE("every template parses, normalises and explains its sections in comments") {
    for (const auto& t : templates()) {
        INFO(t.name);
        Manifest m = parse_manifest(t.text, t.name + ".toml");
        CHECK_NOTHROW(normalize(m));
        CHECK(t.text.rfind("# " + t.name + ": ", 0) == 0);
        CHECK(t.text.find("docs/manifest.md") != std::string::npos);
        CHECK(t.text.find("# The base system") != std::string::npos);
        if (!m.packages.empty()) CHECK(t.text.find("packages to install") != std::string::npos);
    }
}

TEST_CASE("templates use catalogue images and package names of their own distribution") {
    const std::set<std::string> catalogue{"debian/bookworm", "ubuntu/24.04", "fedora/41",
                                          "opensuse/tumbleweed"};
    for (const auto& t : templates()) {
        INFO(t.name);
        Manifest m = parse_manifest(t.text, t.name);
        CHECK(catalogue.count(m.base_image) == 1);
        const bool deb =
            m.base_image.rfind("debian/", 0) == 0 || m.base_image.rfind("ubuntu/", 0) == 0;
        for (const auto& p : m.packages) {
            INFO(p);
            if (deb) {
                // Debian and Ubuntu: -dev headers, no RPM-style -devel or gcc-c++.
                CHECK_FALSE(ends_with(p, "-devel"));
                CHECK(p != "gcc-c++");
                CHECK(p.rfind("mesa-dri", 0) != 0);
            } else {
                // Fedora and openSUSE: -devel headers, no Debian-only names.
                CHECK_FALSE(ends_with(p, "-dev"));
                CHECK(p != "build-essential");
                CHECK(p != "pkg-config");
            }
        }
    }
}

TEST_CASE("render_manifest writes a commented manifest that parses back to the same values") {
    for (const auto& t : templates()) {
        INFO(t.name);
        Manifest m = parse_manifest(t.text, t.name);
        std::string text = render_manifest(m);
        CHECK(parse_manifest(text, "rendered.toml") == m);
        CHECK(text.find("# The base system") != std::string::npos);
    }
    Manifest full = parse_manifest_file(schema_test::data_dir() + "/valid/full.toml");
    std::string text = render_manifest(full);
    CHECK(parse_manifest(text, "rendered.toml") == full);
    CHECK(text.find("[runtime.resource_limits]\ncpu_shares = 1024\nmemory_limit_mb = 4096\n") !=
          std::string::npos);
    CHECK(text.find("data = \"/srv/data:/data:ro\"") != std::string::npos);
}

TEST_CASE("render_manifest writes [env] and [hooks], or commented examples of them") {
    Manifest m;
    m.base_image = "debian/bookworm";
    std::string plain = render_manifest(m);
    CHECK(plain.find("# [env]\n") != std::string::npos);
    CHECK(plain.find("# [hooks]\n") != std::string::npos);
    CHECK(parse_manifest(plain, "r.toml") == m);
    m.env = {{"EDITOR", "vim"}, {"PATH", "$HOME/bin:$PATH"}};
    m.post_build = {"mkdir -p /opt/tools", "set -e\necho \"done\""};
    m.on_enter = {"echo hi"};
    std::string text = render_manifest(m);
    CHECK(text.find("[env]\nEDITOR = \"vim\"\nPATH = \"$HOME/bin:$PATH\"\n") != std::string::npos);
    CHECK(text.find("on_enter = [\n    \"echo hi\",\n]\n") != std::string::npos);
    CHECK(parse_manifest(text, "r.toml") == m);
}

TEST_CASE("render_manifest quotes labels and values that need it") {
    Manifest m;
    m.base_image = "https://example.org/a\"b.tar.xz";
    m.packages = {"git"};
    m.mounts = {{"my data", "~/My Files", "/data", true}};
    std::string text = render_manifest(m);
    CHECK(text.find("\"my data\" = \"~/My Files:/data:ro\"") != std::string::npos);
    CHECK(parse_manifest(text, "q.toml") == m);
}
