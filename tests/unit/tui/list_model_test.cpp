#include "tui/list_model.hpp"

#include <catch2/catch.hpp>

using namespace karapace;
using namespace karapace::tui;

namespace {

core::EnvSummary env(std::string name, std::string id, std::string state,
                     std::string created = "2026-01-01T00:00:00Z") {
    core::EnvSummary e;
    e.name = std::move(name);
    e.env_id = id + std::string(64 - id.size(), '0');
    e.short_id = e.env_id.substr(0, 12);
    e.state = std::move(state);
    e.base_image = "file:///images/busybox.tar.xz";
    e.created = std::move(created);
    return e;
}

std::vector<std::string> names(const ListModel& m) {
    std::vector<std::string> out;
    for (auto i : m.visible())
        out.push_back(label(m.all()[i]));
    return out;
}

ListModel three() {
    ListModel m;
    m.set_environments({env("web", "c1", "running", "2026-01-03T00:00:00Z"),
                        env("api", "a2", "frozen", "2026-01-01T00:00:00Z"),
                        env("db", "b3", "built", "2026-01-02T00:00:00Z")});
    return m;
}

}  // namespace

TEST_CASE("the list is sorted by name at first, and s cycles the column", "[tui]") {
    auto m = three();
    CHECK(names(m) == std::vector<std::string>{"api", "db", "web"});
    m.cycle_sort();
    CHECK(m.sort_key() == SortKey::state);
    CHECK(names(m) == std::vector<std::string>{"db", "api", "web"});
    m.cycle_sort();
    CHECK(names(m) == std::vector<std::string>{"api", "db", "web"});  // a2, b3, c1
    m.cycle_sort();
    CHECK(m.sort_key() == SortKey::created);
    CHECK(names(m) == std::vector<std::string>{"api", "db", "web"});
    m.reverse_sort();
    CHECK(names(m) == std::vector<std::string>{"web", "db", "api"});
    m.cycle_sort();
    CHECK(m.sort_key() == SortKey::name);
}

TEST_CASE("unnamed environments sort after named ones", "[tui]") {
    ListModel m;
    m.set_environments({env("", "aa", "built"), env("zed", "bb", "built")});
    CHECK(names(m) == std::vector<std::string>{"zed", "aa0000000000"});
}

TEST_CASE("the filter matches name, id, state and image without regard to case", "[tui]") {
    auto m = three();
    m.set_filter("WE");
    CHECK(names(m) == std::vector<std::string>{"web"});
    m.set_filter("b3");
    CHECK(names(m) == std::vector<std::string>{"db"});
    m.set_filter("frozen");
    CHECK(names(m) == std::vector<std::string>{"api"});
    m.set_filter("busybox");
    CHECK(m.visible_count() == 3);
    m.set_filter("nothing-like-it");
    CHECK(m.visible_count() == 0);
    CHECK(m.selected() == nullptr);
}

TEST_CASE("the selection stays on the same environment across sorts, filters and reloads",
          "[tui]") {
    auto m = three();
    m.move(1);
    REQUIRE(m.selected()->name == "db");
    m.reverse_sort();
    CHECK(m.selected()->name == "db");
    m.set_filter("d");
    CHECK(m.selected()->name == "db");
    m.set_filter("");
    m.set_environments(
        {env("web", "c1", "running"), env("db", "b3", "frozen"), env("new", "d4", "built")});
    CHECK(m.selected()->name == "db");
    CHECK(m.selected()->state == "frozen");
}

TEST_CASE("when the selected environment goes, the selection stays at its row", "[tui]") {
    auto m = three();
    m.select_row(2);
    REQUIRE(m.selected()->name == "web");
    m.set_environments({env("api", "a2", "frozen"), env("db", "b3", "built")});
    CHECK(m.selected()->name == "db");
    m.move(-5);
    CHECK(m.selected()->name == "api");
    m.move(5);
    CHECK(m.selected()->name == "db");
}
