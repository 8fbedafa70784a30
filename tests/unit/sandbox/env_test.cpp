#include "karapace/sandbox/env.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace karapace::sandbox;

namespace {
bool has(const std::vector<std::string>& env, const std::string& entry) {
    return std::find(env.begin(), env.end(), entry) != env.end();
}
bool has_key(const std::vector<std::string>& env, const std::string& key) {
    return std::any_of(env.begin(), env.end(),
                       [&](const std::string& e) { return e.rfind(key + "=", 0) == 0; });
}
const std::vector<std::string> kHost{"AWS_SECRET_ACCESS_KEY=s1",
                                     "AWS_PROFILE=work",
                                     "GITHUB_TOKEN=s2",
                                     "MY_SERVICE_TOKEN=s3",
                                     "DB_PASSWORD=s4",
                                     "DOCKER_HOST=tcp://x",
                                     "GPG_AGENT_INFO=/x",
                                     "NPM_CONFIG_API_KEY=s5",
                                     "LANG=de_DE.UTF-8",
                                     "LC_TIME=C",
                                     "TERM=foot",
                                     "WAYLAND_DISPLAY=wayland-1",
                                     "SSH_AUTH_SOCK=/run/ssh",
                                     "PATH=/home/u/bin:/usr/bin",
                                     "LD_PRELOAD=/evil.so",
                                     "HOME=/home/host",
                                     "EDITOR=vim",
                                     "XDG_RUNTIME_DIR=/run/user/1000"};
}  // namespace

TEST_CASE("secrets on the host never reach the container environment") {
    auto env = build_environment(kHost, {.name = "web", .home = "/home/u", .user = "u"});
    for (const char* key :
         {"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "GITHUB_TOKEN", "MY_SERVICE_TOKEN", "DB_PASSWORD",
          "DOCKER_HOST", "GPG_AGENT_INFO", "NPM_CONFIG_API_KEY"})
        CHECK_FALSE(has_key(env, key));
}

TEST_CASE("variables outside the allowlist stay outside") {
    auto env = build_environment(kHost, {.name = "web"});
    CHECK_FALSE(has_key(env, "LD_PRELOAD"));
    CHECK_FALSE(has_key(env, "EDITOR"));
    CHECK(has(env, "PATH=" + std::string(kDefaultPath)));
}

TEST_CASE("locale, terminal and session variables pass with host integration") {
    auto env = build_environment(kHost, {.name = "web", .home = "/home/u", .user = "u"});
    CHECK(has(env, "LANG=de_DE.UTF-8"));
    CHECK(has(env, "LC_TIME=C"));
    CHECK(has(env, "TERM=foot"));
    CHECK(has(env, "WAYLAND_DISPLAY=wayland-1"));
    CHECK(has(env, "SSH_AUTH_SOCK=/run/ssh"));
    CHECK(has(env, "container=karapace"));
    CHECK(has(env, "KARAPACE_ENV=web"));
    CHECK(has(env, "HOME=/home/u"));
    CHECK(has(env, "USER=u"));
    CHECK(has(env, "LOGNAME=u"));
}

TEST_CASE("a build gets no session variables") {
    auto env = build_environment(
        kHost, {.name = "web", .home = "/root", .user = "root", .host_integration = false});
    CHECK_FALSE(has_key(env, "WAYLAND_DISPLAY"));
    CHECK_FALSE(has_key(env, "SSH_AUTH_SOCK"));
    CHECK_FALSE(has_key(env, "XDG_RUNTIME_DIR"));
    CHECK(has(env, "LANG=de_DE.UTF-8"));
    CHECK(has(env, "HOME=/root"));
}

TEST_CASE("--env additions override everything and are passed as given") {
    auto env = build_environment(
        kHost, {.name = "web", .additions = {"FOO=bar", "LANG=C", "PATH=/opt/bin"}});
    CHECK(has(env, "FOO=bar"));
    CHECK(has(env, "LANG=C"));
    CHECK(has(env, "PATH=/opt/bin"));
    CHECK_FALSE(has(env, "LANG=de_DE.UTF-8"));
}

TEST_CASE("TERM gets a default when the host has none") {
    auto env = build_environment({}, {.name = "x"});
    CHECK(has(env, "TERM=xterm-256color"));
}

TEST_CASE("secret-looking names are recognised") {
    CHECK(env_secret("AWS_ACCESS_KEY_ID"));
    CHECK(env_secret("VAULT_ADDR"));
    CHECK(env_secret("SOME_CLIENT_SECRET"));
    CHECK(env_secret("CI_JOB_TOKEN"));
    CHECK_FALSE(env_secret("LANG"));
    CHECK_FALSE(env_secret("DISPLAY"));
    CHECK_FALSE(env_allowed("SSH_AUTH_SOCK", false));
    CHECK(env_allowed("SSH_AUTH_SOCK", true));
}

TEST_CASE("[env] comes after the sandbox's variables, reads them, and --env overrides it") {
    auto env = build_environment(
        kHost, {.name = "web",
                .home = "/home/u",
                .user = "u",
                .additions = {"EDITOR=nano"},
                .manifest = {"EDITOR=vim", "PATH=$HOME/.local/bin:$PATH",
                             "GREETING=${USER}@$KARAPACE_ENV", "PRICE=$$5", "EMPTY=[$NOT_SET]",
                             "TERM=dumb", "XDG_DATA_DIRS=/opt:$XDG_DATA_DIRS"},
                .extra = {"XDG_DATA_DIRS=/usr/share"}});
    CHECK(has(env, "EDITOR=nano"));
    CHECK(has(env, "PATH=/home/u/.local/bin:" + std::string(kDefaultPath)));
    CHECK(has(env, "GREETING=u@web"));
    CHECK(has(env, "PRICE=$5"));
    CHECK(has(env, "EMPTY=[]"));
    CHECK(has(env, "TERM=dumb"));
    CHECK(has(env, "XDG_DATA_DIRS=/opt:/usr/share"));
    // References read the environment before [env]: the host's value never leaks in through them.
    auto secret = build_environment(kHost, {.name = "web", .manifest = {"X=$GITHUB_TOKEN$EDITOR"}});
    CHECK(has(secret, "X="));
}

TEST_CASE("an image's Env applies over the defaults and the host, under [env] and --env") {
    EnvContext ctx{.name = "web", .home = "/home/u", .user = "u"};
    ctx.image = {"PATH=/opt/app/bin:/usr/bin", "LANG=C.UTF-8", "APP_MODE=image",
                 "HOME=/image-home",           "USER=app",     "IMG_ONLY=1"};
    ctx.manifest = {"APP_MODE=manifest"};
    ctx.additions = {"IMG_ONLY=2"};
    auto env = build_environment(kHost, ctx);
    CHECK(has(env, "PATH=/opt/app/bin:/usr/bin"));
    CHECK(has(env, "LANG=C.UTF-8"));
    CHECK(has(env, "APP_MODE=manifest"));
    CHECK(has(env, "IMG_ONLY=2"));
    CHECK(has(env, "HOME=/home/u"));
    CHECK(has(env, "USER=u"));
}
