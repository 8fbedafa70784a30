#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

#include "fixture.hpp"
#include "karapace/image/config.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

using namespace karapace::image;

namespace {

// Sets an environment variable for the scope of a test and restores it afterwards.
class EnvVar {
public:
    EnvVar(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~EnvVar() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("the image server comes from the environment, then config.toml, then the default") {
    image_test::TempDir xdg;
    EnvVar config_home("XDG_CONFIG_HOME", xdg.path());
    ::unsetenv("KARAPACE_IMAGE_SERVER");
    CHECK(load_config().server == "https://images.linuxcontainers.org");

    karapace::make_dirs(xdg.path() + "/karapace");
    karapace::write_file_atomic(xdg.path() + "/karapace/config.toml",
                                "# mirror\n[images]\nserver = \"https://mirror.example.org/lxc/\"\n"
                                "bootstrap_mirror = \"http://deb.example.org/debian\"\n");
    auto cfg = load_config();
    CHECK(cfg.server == "https://mirror.example.org/lxc");
    CHECK(cfg.bootstrap_mirror == "http://deb.example.org/debian");

    EnvVar env("KARAPACE_IMAGE_SERVER", "http://127.0.0.1:8080");
    CHECK(load_config().server == "http://127.0.0.1:8080");
}

TEST_CASE("a bad [images] table in config.toml is an error naming the file and key") {
    image_test::TempDir dir;
    const std::string path = dir.path() + "/config.toml";
    karapace::write_file_atomic(path, "[images]\nservr = \"https://x\"\n");
    try {
        (void)load_config_file(path);
        FAIL("accepted an unknown key");
    } catch (const karapace::Error& e) {
        CHECK(std::string(e.what()).find("servr") != std::string::npos);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    karapace::write_file_atomic(path, "[images]\nserver = \"ftp://x\"\n");
    CHECK_THROWS_AS(load_config_file(path), karapace::Error);
    karapace::write_file_atomic(path, "[images\n");
    CHECK_THROWS_AS(load_config_file(path), karapace::Error);
    // Other tables belong to other layers and are left alone.
    karapace::write_file_atomic(path, "[mounts]\nallow = [\"/srv\"]\n");
    CHECK(load_config_file(path).server == kDefaultImageServer);
}
