#include "karapace/util/yaml.hpp"

#include <catch2/catch.hpp>

#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"

using namespace karapace;

namespace {
std::string as_json(const std::string& text) {
    return json::compact(yaml::parse(text, "test.yaml"));
}
}  // namespace

TEST_CASE("YAML block mappings and sequences read as JSON objects and arrays") {
    CHECK(as_json("a: 1\nb: two\n") == R"({"a":1,"b":"two"})");
    CHECK(as_json("list:\n  - x\n  - y\n") == R"({"list":["x","y"]})");
    // A sequence at the indent of the key that holds it, as generators write it.
    CHECK(as_json("devices:\n- name: \"0\"\n  edits: {}\n- name: all\n") ==
          R"({"devices":[{"name":"0","edits":{}},{"name":"all"}]})");
    CHECK(as_json("a:\n  b:\n    c: d\n  e: f\n") == R"({"a":{"b":{"c":"d"},"e":"f"}})");
    CHECK(as_json("- - 1\n  - 2\n- 3\n") == R"([[1,2],3])");
    CHECK(as_json("-\n  a: 1\n") == R"([{"a":1}])");
    CHECK(as_json("") == "null");
    CHECK(as_json("# only a comment\n") == "null");
}

TEST_CASE("YAML scalars get the core schema's types; quoted ones stay strings") {
    CHECK(as_json("[true, false, null, ~, 12, -3, 0o644, 0x1f, 1.5, \"12\", '0']") ==
          R"([true,false,null,null,12,-3,420,31,"1.5","12","0"])");
    CHECK(as_json("k: \"a \\\"quoted\\\" \\u00e9\\n\"") ==
          "{\"k\":\"a \\\"quoted\\\" \xc3\xa9\\n\"}");
    CHECK(as_json("k: 'it''s'") == R"({"k":"it's"})");
    CHECK(as_json("k: a::b # comment") == R"({"k":"a::b"})");
    CHECK(as_json("k: a#b") == R"({"k":"a#b"})");
    CHECK(as_json("args: [nvidia-ctk, hook, --link, 'x::/usr/lib/y']") ==
          R"({"args":["nvidia-ctk","hook","--link","x::/usr/lib/y"]})");
    CHECK(as_json("m: {a: 1, 'b': [x]}") == R"({"m":{"a":1,"b":["x"]}})");
    CHECK(as_json("---\nk: v\n...\nignored: after end\n") == R"({"k":"v"})");
    CHECK(as_json("\"quoted key\": 1") == R"({"quoted key":1})");
}

TEST_CASE("YAML it does not read is refused with its line") {
    auto refused = [](const std::string& text, const std::string& why) {
        CHECK_THROWS_WITH(yaml::parse(text, "spec.yaml"),
                          Catch::Contains("spec.yaml: line") && Catch::Contains(why));
    };
    refused("a: &anchor 1\n", "anchors");
    refused("a: *alias\n", "aliases");
    refused("a: !!str 1\n", "tags");
    refused("a: |\n  text\n", "block scalars");
    refused("k: v\n---\nk: w\n", "second document");
    refused("a:\n\tb: 1\n", "tab");
    refused("a: 1\na: 2\n", "given twice");
    refused("a: [1, 2\n", "must end on the line");
    refused("a: \"open\n", "does not end");
    refused("a: b\n    c: d\n", "continues on the next line");
    refused("a: 1\n  - x\n", "continues on the next line");
    refused("- a\nb: c\n", "does not continue");
    // Deep nesting is refused before it can exhaust the stack, in flow and in block style.
    refused("k: " + std::string(100000, '[') + std::string(100000, ']') + "\n", "levels deep");
    std::string block;
    for (int i = 0; i < 200; ++i)
        block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
    refused(block + std::string(200, ' ') + "k: v\n", "levels deep");
    CHECK_NOTHROW(yaml::parse("k: " + std::string(60, '[') + std::string(60, ']'), "ok.yaml"));
}
