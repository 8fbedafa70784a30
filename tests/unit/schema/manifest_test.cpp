#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <string>
#include <vector>

#include "karapace/schema/manifest.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/error.hpp"
#include "test_data.hpp"

using karapace::Errc;
using karapace::Error;
using namespace karapace::schema;

namespace {

std::vector<std::string> toml_files_in(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return out;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0) out.push_back(name);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

struct Expected {
    const char* file;
    unsigned line;
    unsigned column;
    const char* named;  // the key (or value) the message must name
};

// Every file under data/invalid/, with where the error must point and what it must name.
const Expected invalid_corpus[] = {
    {"backend-unknown.toml", 5, 11, "'runtime.backend'"},
    {"base-not-table.toml", 2, 8, "'base' must be a table"},
    {"cpu-shares-too-large.toml", 5, 14, "'runtime.resource_limits.cpu_shares'"},
    {"duplicate-key.toml", 4, 1, "duplicate key 'base.image' (first defined at line 3)"},
    {"duplicate-table.toml", 6, 1, "table [hardware] is defined twice"},
    {"empty-file.toml", 1, 1, "'manifest_version'"},
    {"empty-image.toml", 3, 9, "'base.image' must not be empty"},
    {"env-bad-dollar.toml", 5, 9, "value of 'env.STAMP' has a '$' that starts no variable"},
    {"env-bad-name.toml", 5, 1, "'env.MY-TOOL' cannot be set: MY-TOOL is not a variable name"},
    {"env-newline.toml", 5, 12, "value of 'env.GREETING' contains a line break"},
    {"env-not-string.toml", 5, 8, "'env.JOBS' must be a string, not an integer"},
    {"env-refers-to-env.toml", 6, 8, "'env.PATH' refers to $TOOLS, which [env] sets too"},
    {"env-reserved-name.toml", 6, 1, "'env.HOME' cannot be set: HOME is set by the sandbox"},
    {"gpu-string.toml", 5, 7, "'hardware.gpu' must be a boolean"},
    {"hooks-element-not-string.toml", 5, 24, "element 1 of 'hooks.on_enter' must be a string"},
    {"hooks-empty-command.toml", 5, 23, "element 1 of 'hooks.post_build' is empty"},
    {"hooks-not-array.toml", 5, 14, "'hooks.post_build' must be an array of strings"},
    {"hooks-not-table.toml", 2, 9, "'hooks' must be a table"},
    {"hooks-unknown-key.toml", 5, 1, "unknown key 'hooks.pre_build' (known: post_build, on_enter)"},
    {"image-not-string.toml", 3, 9, "'base.image' must be a string"},
    {"image-with-space.toml", 3, 9, "'base.image'"},
    {"missing-base.toml", 1, 1, "[base]"},
    {"missing-image.toml", 3, 1, "'base.image'"},
    {"missing-version.toml", 1, 1, "'manifest_version'"},
    {"mount-bad-option.toml", 5, 1, "'mounts.src'"},
    {"mount-container-dotdot.toml", 5, 1, "'mounts.esc'"},
    {"mount-container-root.toml", 5, 1, "'mounts.all'"},
    {"mount-empty-container.toml", 5, 1, "'mounts.src'"},
    {"mount-empty-host.toml", 5, 1, "'mounts.src'"},
    {"mount-empty-label.toml", 5, 1, "mount label must not be empty"},
    {"mount-label-twice.toml", 6, 1, "mount label 'a' is used twice"},
    {"mount-no-colon.toml", 5, 1, "'mounts.src'"},
    {"mount-not-string.toml", 5, 7, "'mounts.src' must be a string"},
    {"mount-relative-container.toml", 5, 1, "'mounts.src'"},
    {"mount-same-target.toml", 6, 1, "mounts 'a' and 'b' both mount onto /ws"},
    {"mount-tilde-user.toml", 5, 1, "'~bob/src'"},
    {"mount-too-many-colons.toml", 5, 1, "'mounts.src'"},
    {"mounts-array-of-tables.toml", 4, 1, "'mounts' must be a table"},
    {"negative-cpu-shares.toml", 5, 14, "'runtime.resource_limits.cpu_shares'"},
    {"network-not-bool.toml", 5, 21, "'runtime.network_isolation' must be a boolean"},
    {"overflow-memory.toml", 5, 19, "'runtime.resource_limits.memory_limit_mb' is out of range"},
    {"package-empty.toml", 5, 20, "element 1 of 'system.packages' is empty"},
    {"package-not-string.toml", 5, 20, "element 1 of 'system.packages' must be a string"},
    {"package-option.toml", 5, 20, "element 1 of 'system.packages' starts with '-'"},
    {"package-two-names.toml", 5, 9, "element 0 of 'gui.apps' contains a space"},
    {"packages-not-array.toml", 5, 12, "'system.packages' must be an array"},
    {"syntax-missing-equals.toml", 5, 9, "TOML syntax error"},
    {"syntax-unterminated-string.toml", 3, 9, "TOML syntax error"},
    {"unknown-base-key.toml", 4, 1, "unknown key 'base.digest' (known: image)"},
    {"unknown-hardware-key.toml", 7, 3, "unknown key 'hardware.gpux' (known: gpu, audio)"},
    {"unknown-limits-key.toml", 5, 1, "unknown key 'runtime.resource_limits.cpu'"},
    {"unknown-runtime-key.toml", 6, 1, "unknown key 'runtime.privileged'"},
    {"unknown-table.toml", 5, 1, "unknown key 'network'"},
    {"unknown-top-level-key.toml", 2, 1, "unknown key 'name'"},
    {"version-0.toml", 1, 20, "unsupported manifest_version 0"},
    {"version-2.toml", 1, 20, "unsupported manifest_version 2"},
    {"version-float.toml", 1, 20, "'manifest_version' must be an integer"},
    {"version-string.toml", 1, 20, "'manifest_version' must be an integer"},
    {"zero-memory.toml", 5, 19, "'runtime.resource_limits.memory_limit_mb' must be between 1"},
};

Error manifest_error(const std::string& path) {
    try {
        parse_manifest_file(path);
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected " << path << " to be refused");
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("the corpus holds at least 30 manifests and every invalid one has an expectation") {
    auto valid = toml_files_in(schema_test::data_dir() + "/valid");
    auto invalid = toml_files_in(schema_test::data_dir() + "/invalid");
    CHECK(valid.size() + invalid.size() >= 30);
    std::vector<std::string> listed;
    for (const auto& e : invalid_corpus)
        listed.emplace_back(e.file);
    std::sort(listed.begin(), listed.end());
    CHECK(listed == invalid);
}

TEST_CASE("every invalid manifest is a manifest error naming file, line, column and key") {
    for (const auto& e : invalid_corpus) {
        const std::string path = schema_test::data_dir() + "/invalid/" + e.file;
        INFO(path);
        Error err = manifest_error(path);
        CHECK(err.code() == Errc::manifest);
        const std::string msg = err.what();
        INFO(msg);
        const std::string prefix =
            path + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": ";
        CHECK(msg.rfind(prefix, 0) == 0);
        CHECK(msg.find(e.named) != std::string::npos);
        CHECK_FALSE(err.hint().empty());
    }
}

TEST_CASE("every valid manifest in the corpus parses") {
    for (const auto& name : toml_files_in(schema_test::data_dir() + "/valid")) {
        INFO(name);
        CHECK_NOTHROW(parse_manifest_file(schema_test::data_dir() + "/valid/" + name));
    }
}

TEST_CASE("a full manifest sets every field") {
    Manifest m = parse_manifest_file(schema_test::data_dir() + "/valid/full.toml");
    CHECK(m.manifest_version == 1);
    CHECK(m.base_image == "debian/bookworm");
    CHECK(m.packages == std::vector<std::string>{"git", "curl"});
    CHECK(m.apps == std::vector<std::string>{"firefox"});
    CHECK(m.gpu);
    CHECK(m.audio);
    REQUIRE(m.mounts.size() == 3);
    // File order is kept until normalisation.
    CHECK(m.mounts[0] == MountSpec{"workspace", "~/projects", "/workspace", false});
    CHECK(m.mounts[1] == MountSpec{"data", "/srv/data", "/data", true});
    CHECK(m.mounts[2] == MountSpec{"cache", "./cache", "/var/cache/app", false});
    CHECK(m.backend == "namespace");
    CHECK(m.network_isolation);
    CHECK(m.cpu_shares == 1024u);
    CHECK(m.memory_limit_mb == 4096u);
}

TEST_CASE("a minimal manifest gets the defaults") {
    Manifest m = parse_manifest("manifest_version = 1\n[base]\nimage = \"rolling\"\n", "m.toml");
    CHECK(m.base_image == "rolling");
    CHECK(m.packages.empty());
    CHECK(m.apps.empty());
    CHECK_FALSE(m.gpu);
    CHECK_FALSE(m.audio);
    CHECK(m.mounts.empty());
    CHECK(m.backend == "namespace");
    CHECK_FALSE(m.network_isolation);
    CHECK_FALSE(m.cpu_shares.has_value());
    CHECK_FALSE(m.memory_limit_mb.has_value());
}

TEST_CASE("dotted keys, inline tables, literal strings and CRLF mean the same as plain tables") {
    Manifest dotted =
        parse_manifest_file(schema_test::data_dir() + "/valid/literal-and-dotted.toml");
    CHECK(dotted.base_image == "ubuntu/24.04");
    CHECK(dotted.packages == std::vector<std::string>{"build-essential", "git"});
    CHECK(dotted.memory_limit_mb == 2048u);

    Manifest inl = parse_manifest_file(schema_test::data_dir() + "/valid/inline-tables.toml");
    CHECK(inl.base_image == "fedora/41");
    CHECK(inl.gpu);
    CHECK(inl.mounts == std::vector<MountSpec>{{"src", "~/src", "/src", false}});

    Manifest crlf = parse_manifest_file(schema_test::data_dir() + "/valid/crlf.toml");
    CHECK(crlf.base_image == "debian/bookworm");
    CHECK(crlf.packages == std::vector<std::string>{"git"});
}

TEST_CASE("resource limits accept their largest values and refuse one more") {
    Manifest m = parse_manifest_file(schema_test::data_dir() + "/valid/limits-at-maximum.toml");
    CHECK(m.cpu_shares == cpu_shares_max);
    CHECK(m.memory_limit_mb == memory_limit_mb_max);
    const std::string over =
        "manifest_version = 1\n[base]\nimage = \"x\"\n"
        "[runtime.resource_limits]\nmemory_limit_mb = 8796093022208\n";
    CHECK_THROWS_WITH(parse_manifest(over, "m.toml"),
                      Catch::Contains("m.toml:5:19:") && Catch::Contains("memory_limit_mb"));
}

TEST_CASE("the largest 64-bit integer is read as itself, one more is an overflow error") {
    const std::string head =
        "manifest_version = 1\n[base]\nimage = \"x\"\n"
        "[runtime.resource_limits]\ncpu_shares = ";
    CHECK_THROWS_WITH(parse_manifest(head + "9223372036854775807\n", "m.toml"),
                      Catch::Contains("must be between 1 and 262144, not 9223372036854775807"));
    CHECK_THROWS_WITH(parse_manifest(head + "9223372036854775808\n", "m.toml"),
                      Catch::Contains("out of range"));
    CHECK_THROWS_WITH(parse_manifest(head + "0x7fffffffffffffffff\n", "m.toml"),
                      Catch::Contains("out of range"));
}

TEST_CASE("a backend is accepted in any case and kept as written") {
    Manifest m = parse_manifest_file(schema_test::data_dir() + "/valid/normalization.toml");
    CHECK(m.backend == "OCI");
}

TEST_CASE("an unknown key close to a known one gets a suggestion") {
    Error e = manifest_error(schema_test::data_dir() + "/invalid/unknown-hardware-key.toml");
    CHECK(e.hint().find("did you mean 'hardware.gpu'?") != std::string::npos);
    Error far = manifest_error(schema_test::data_dir() + "/invalid/unknown-top-level-key.toml");
    CHECK(far.hint().find("did you mean") == std::string::npos);
}

TEST_CASE("a manifest version newer than 1 says to upgrade karapace") {
    Error e = manifest_error(schema_test::data_dir() + "/invalid/version-2.toml");
    CHECK(e.hint().find("newer karapace") != std::string::npos);
}

TEST_CASE("parsing does not look at mount sources on the host") {
    const std::string text =
        "manifest_version = 1\n[base]\nimage = \"x\"\n[mounts]\n"
        "gone = \"/nonexistent/karapace/test/dir:/data\"\n";
    Manifest m = parse_manifest(text, "m.toml");
    REQUIRE(m.mounts.size() == 1);
    CHECK(m.mounts[0].host == "/nonexistent/karapace/test/dir");
}

TEST_CASE("an unreadable or oversized manifest file is a manifest error naming the path") {
    const std::string missing = schema_test::data_dir() + "/no-such-manifest.toml";
    try {
        parse_manifest_file(missing);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        CHECK(std::string(e.what()).find(missing) != std::string::npos);
        CHECK(e.hint().find("karapace new") != std::string::npos);
    }
    try {
        parse_manifest_file(schema_test::data_dir());  // a directory
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
    }
    char tmpl[] = "/tmp/karapace-manifest-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    std::string big(manifest_size_limit + 1, '#');
    REQUIRE(::write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size()));
    ::close(fd);
    try {
        parse_manifest_file(tmpl);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        CHECK(std::string(e.what()).find("larger than") != std::string::npos);
    }
    ::unlink(tmpl);
}

TEST_CASE("text with a NUL byte is refused as not a manifest") {
    std::string text = "manifest_version = 1\n[base]\nimage = \"x\"\n";
    text += '\0';
    CHECK_THROWS_WITH(parse_manifest(text, "bin.toml"), Catch::Contains("NUL"));
}

TEST_CASE("the seed's example manifests parse unchanged") {
    const char* env = std::getenv("KARAPACE_SEED_EXAMPLES");
    std::string dir =
        env != nullptr ? env : schema_test::source_root() + "/../shared/reference/seed-examples";
    auto files = toml_files_in(dir);
    if (files.empty()) {
        WARN("skipped: no seed examples at " << dir);
        return;
    }
    CHECK(files.size() >= 5);
    for (const auto& f : files) {
        INFO(f);
        Manifest m = parse_manifest_file(dir + "/" + f);
        CHECK_FALSE(m.base_image.empty());
        CHECK(m.backend == "namespace");
    }
    Manifest gui = parse_manifest_file(dir + "/gui-dev.toml");
    CHECK(gui.gpu);
    CHECK(gui.audio);
    CHECK(gui.apps == std::vector<std::string>{"firefox"});
    CHECK(gui.mounts == std::vector<MountSpec>{{"workspace", "~/projects", "/workspace", false}});
}

TEST_CASE("a manifest that is not valid UTF-8 is a manifest error with its position") {
    // Found by the fuzzer: such bytes once reached the TOML library, which read past its buffer.
    const std::string text = "manifest_version = 1\n'\xfa'\xfa";
    try {
        karapace::schema::parse_manifest(text, "bad.toml");
        FAIL("expected an error");
    } catch (const karapace::Error& e) {
        CHECK(e.code() == karapace::Errc::manifest);
        CHECK(std::string(e.what()).rfind("bad.toml:2:2: not valid UTF-8", 0) == 0);
    }
    CHECK_THROWS_AS(karapace::schema::parse_manifest("a = \"\xed\xa0\x80\"", "s.toml"),
                    karapace::Error);  // a UTF-16 surrogate
}

namespace {

// What parse_manifest says about `text`, or "" when it accepts it.
std::string text_error(const std::string& text) {
    try {
        (void)parse_manifest(text, "deep.toml");
        return {};
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        return e.what();
    }
}

std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i)
        out += s;
    return out;
}

const std::string deep_header = "manifest_version = 1\n[base]\nimage = \"debian/bookworm\"\n";

}  // namespace

TEST_CASE("deep nesting is a manifest error at the place it passes the limit, not a crash") {
    // toml11 reads nested values by recursion: 10,000 levels used to overflow the stack. Each
    // case is far deeper than that; the error names where level 65 starts.
    const std::size_t n = 100000;
    // Under [base] (level 1), `a` is level 2: its 64th bracket (column 5 + 63) is level 65.
    CHECK(text_error(deep_header + "a = " + repeat("[", n) + repeat("]", n) + "\n")
              .rfind("deep.toml:4:68: nested more than 64 levels deep", 0) == 0);
    CHECK(text_error(deep_header + "a = " + repeat("{b = ", n) + "1" + repeat("}", n) + "\n")
              .rfind("deep.toml:4:", 0) == 0);
    CHECK(text_error(deep_header + "a = [" + repeat("{b = [", n) + "\n")
              .find("nested more than 64 levels") != std::string::npos);
    // Dotted keys and table headers nest too: the dot before the 65th level.
    CHECK(text_error(deep_header + "a" + repeat(".a", n) + " = 1\n")
              .rfind("deep.toml:4:128: nested more than 64 levels deep", 0) == 0);
    CHECK(text_error(deep_header + "[a" + repeat(".a", n) + "]\n")
              .rfind("deep.toml:4:129: nested more than 64 levels deep", 0) == 0);
    CHECK(text_error(deep_header + "[[a" + repeat(".a", 63) + "]]\n").rfind("deep.toml:4:", 0) ==
          0);  // the element of an array of tables is a level
}

TEST_CASE("nesting up to the limit and brackets in strings and comments reach the TOML reader") {
    // 64 levels: refused for the unknown key, not for the nesting.
    auto at_limit = text_error("x = " + repeat("[", 64) + repeat("]", 64) + "\n" + deep_header);
    CHECK(at_limit.find("unknown key 'x'") != std::string::npos);
    CHECK(text_error(repeat("a.", 63) + "a = 1\n" + deep_header).find("nested") ==
          std::string::npos);
    CHECK(text_error("[[" + repeat("a.", 62) + "a]]\n" + deep_header).find("nested") ==
          std::string::npos);

    const std::string brackets = repeat("[{", 2000);
    std::string text = deep_header + "# " + brackets + "\n[system]\npackages = [\"" + brackets +
                       "\", '" + brackets + "', \"\\\"" + brackets + "\"] # " + brackets +
                       "\n[gui]\napps = [\"\"\"\n" + brackets + "\"\"\"\"\", '''" + brackets +
                       "''''']\n";
    auto m = parse_manifest(text, "strings.toml");
    REQUIRE(m.packages.size() == 3);
    CHECK(m.packages[2] == "\"" + brackets);
    REQUIRE(m.apps.size() == 2);
    CHECK(m.apps[0] == brackets + "\"\"");
    CHECK(m.apps[1] == brackets + "''");
}

namespace {

std::string one_line_packages(std::size_t n) {
    std::string list;
    for (std::size_t i = 0; i < n; ++i)
        list += (i == 0 ? "\"pkg" : ", \"pkg") + std::to_string(n - i) + "\"";
    return "packages = [" + list + "]";
}

}  // namespace

TEST_CASE("a one-line array of 90000 package names parses in linear time") {
    // toml11 copies a value's whole line for every value: on one line this once took over 100 s,
    // which the test's timeout would catch.
    const std::string text =
        deep_header + "[system]\n" + one_line_packages(90000) + "\n[gui]\napps = [\"a\"]\n";
    auto m = parse_manifest(text, "many.toml");
    REQUIRE(m.packages.size() == 90000);
    CHECK(m.packages.front() == "pkg90000");
    CHECK(m.apps == std::vector<std::string>{"a"});
    auto n = normalize(m);
    CHECK(n.packages.size() == 90000);
    CHECK(n.packages.front() == "pkg1");
}

TEST_CASE("errors in and after a long array still name their place in the file") {
    // Element 2000 of a long line starts at column 12 + 9 * 2000 + 1; a bad value there, and a
    // problem on the next line, are reported where they are in the file.
    std::string packages = one_line_packages(3000);
    const std::size_t at = packages.find("\"pkg1000\"");
    packages.replace(at, 9, "\"-pkg100\"");
    auto bad_element = text_error(deep_header + "[system]\n" + packages + "\n");
    CHECK(bad_element.rfind("deep.toml:5:" + std::to_string(at + 1) + ": element 2000 of", 0) == 0);
    auto next_line = text_error(deep_header + "[system]\n" + one_line_packages(3000) +
                                "\n[gui]\napps = \"firefox\"\n");
    CHECK(next_line.rfind("deep.toml:7:8: key 'gui.apps' must be an array", 0) == 0);
    auto duplicate = text_error(deep_header + "[system]\n" + one_line_packages(3000) +
                                "\n[gui]\napps = []\napps = []\n");
    CHECK(duplicate.find("deep.toml:8:1: duplicate key 'gui.apps' (first defined at line 7)") !=
          std::string::npos);
}

TEST_CASE("a line that cannot be split is refused past 4096 bytes, before it is parsed") {
    std::string table = "x = {";
    for (int i = 0; i < 1000; ++i)
        table += (i == 0 ? "a" : ", a") + std::to_string(i) + " = 1";
    CHECK(text_error(deep_header + table + "}\n")
              .rfind("deep.toml:4:4097: line longer than 4096 bytes", 0) == 0);
}

TEST_CASE("[env] and [hooks] are read as written, hooks in order and trimmed") {
    Manifest m = parse_manifest_file(schema_test::data_dir() + "/valid/env-and-hooks.toml");
    CHECK(m.env == std::vector<EnvVar>{
                       {"EDITOR", "vim"}, {"PATH", "$HOME/.local/bin:${PATH}"}, {"PRICE", "$$5"}});
    CHECK(m.post_build ==
          std::vector<std::string>{"mkdir -p /opt/tools", "set -e\necho two lines"});
    CHECK(m.on_enter == std::vector<std::string>{"echo welcome"});
    // Absent tables and empty lists are the same thing.
    Manifest empty = parse_manifest(deep_header + "[env]\n[hooks]\npost_build = []\n", "e.toml");
    CHECK(empty.env.empty());
    CHECK(empty.post_build.empty());
    CHECK(empty.on_enter.empty());
}

TEST_CASE("a hook written on several lines of a CRLF file gets LF line ends") {
    const std::string text =
        "manifest_version = 1\r\n[base]\r\nimage = \"x\"\r\n[hooks]\r\n"
        "post_build = [\"\"\"\r\nmkdir /a\r\nmkdir /b\r\n\"\"\"]\r\n";
    CHECK(parse_manifest(text, "crlf.toml").post_build ==
          std::vector<std::string>{"mkdir /a\nmkdir /b"});
}

TEST_CASE("every variable the sandbox keeps is refused by [env], and PATH is allowed") {
    for (const auto& name : reserved_env_names()) {
        INFO(name);
        auto msg = text_error(deep_header + "[env]\n" + name + " = \"x\"\n");
        CHECK(msg.rfind("deep.toml:5:1: key 'env." + name + "' cannot be set: " + name, 0) == 0);
    }
    CHECK(text_error(deep_header + "[env]\nPATH = \"/opt/bin:$PATH\"\n").empty());
    // A variable may refer to itself: that reads the session's value.
    CHECK(text_error(deep_header + "[env]\nLD_LIBRARY_PATH = \"/opt/lib:$LD_LIBRARY_PATH\"\n")
              .empty());
}

TEST_CASE("[env] values refuse control characters and hooks refuse a NUL") {
    CHECK(text_error(deep_header + "[env]\nA = \"a\\u0000b\"\n").find("contains a NUL") !=
          std::string::npos);
    CHECK(text_error(deep_header + "[env]\nA = \"a\\u001bb\"\n")
              .find("contains a control character") != std::string::npos);
    CHECK(text_error(deep_header + "[env]\nA = \"a\\tb\"\n").empty());
    CHECK(text_error(deep_header + "[hooks]\non_enter = [\"a\\u0000b\"]\n")
              .rfind("deep.toml:5:13: element 0 of 'hooks.on_enter' contains a NUL", 0) == 0);
}

TEST_CASE("[services] takes a string, an array or a table per service") {
    Manifest m = parse_manifest(deep_header + R"([services]
docs = "python3  -m http.server\t8000"
web = ["nginx", "-g", "daemon off;"]
db = { command = "postgres -D /srv/db", notify = true, restart = "always" }
lsp = { command = ["/opt/lsp"], sockets = ["127.0.0.1:7000", "/run/lsp.sock"] }
)",
                                "s.toml");
    REQUIRE(m.services.size() == 4);
    CHECK(m.services[0].name == "docs");
    CHECK(m.services[0].spec.command ==
          std::vector<std::string>{"python3", "-m", "http.server", "8000"});
    CHECK_FALSE(m.services[0].spec.notify);
    CHECK(m.services[0].spec.restart == "on-failure");
    CHECK(m.services[1].spec.command == std::vector<std::string>{"nginx", "-g", "daemon off;"});
    CHECK(m.services[2].spec.notify);
    CHECK(m.services[2].spec.restart == "always");
    CHECK(m.services[3].spec.sockets ==
          std::vector<std::string>{"127.0.0.1:7000", "/run/lsp.sock"});
    // Sorted by name once normalised, and kept in the canonical JSON.
    auto n = normalize(m);
    CHECK(n.services.front().name == "db");
    CHECK(canonical_json(n).find(R"("services":{"db":{"command":["postgres","-D","/srv/db"])") !=
          std::string::npos);
}

TEST_CASE("[services] refuses bad names, policies, commands and keys") {
    CHECK(text_error(deep_header + "[services]\n\"a b\" = \"x\"\n")
              .find("'a b' is not a usable service name") != std::string::npos);
    CHECK(text_error(deep_header + "[services]\nx = { command = \"y\", restart = \"often\" }\n")
              .find("'often' is not a restart policy of service x") != std::string::npos);
    CHECK(text_error(deep_header + "[services]\nx = []\n").find("has no usable command") !=
          std::string::npos);
    CHECK(text_error(deep_header + "[services]\nx = \"sh -c 'a b'\"\n")
              .find("has quotes or backslashes") != std::string::npos);
    CHECK(text_error(deep_header + "[services]\nx = { cmd = \"y\" }\n").find("unknown key") !=
          std::string::npos);
    CHECK(text_error(deep_header + "[services]\nx = 3\n").find("a string or an array") !=
          std::string::npos);
    CHECK(text_error(deep_header + "[services]\nx = { command = \"y\", sockets = [\"a b\"] }\n")
              .find("is not a socket address") != std::string::npos);
}
