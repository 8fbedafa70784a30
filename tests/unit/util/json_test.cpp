#include <catch2/catch.hpp>

#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"

namespace bj = boost::json;

TEST_CASE("pretty JSON keeps insertion order and indents by two") {
    bj::object o;
    o["b"] = 1;
    o["a"] = bj::array{"x"};
    o["e"] = bj::object{};
    CHECK(karapace::json::pretty(o) ==
          "{\n  \"b\": 1,\n  \"a\": [\n    \"x\"\n  ],\n  \"e\": {}\n}\n");
    CHECK(karapace::json::compact(o) == R"({"b":1,"a":["x"],"e":{}})");
}

TEST_CASE("typed field access names the record and key") {
    auto v = karapace::json::parse(R"({"n":"x"})", "rec");
    try {
        karapace::json::get_int(v.as_object(), "n", "layers/abc.json");
        FAIL("expected an error");
    } catch (const karapace::Error& e) {
        CHECK(std::string(e.what()) == "layers/abc.json: field 'n' is missing or not an integer");
    }
    CHECK_THROWS_AS(karapace::json::parse("{", "rec"), karapace::Error);
}
