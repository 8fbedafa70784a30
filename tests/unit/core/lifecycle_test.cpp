// The lifecycle table, pair by pair: every state x operation is checked against the expectation
// written out below, and every refusal must name the environment and say what to do.
#include <catch2/catch.hpp>

#include <string>

#include "karapace/core/lifecycle.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::core;

namespace {

constexpr State states[] = {State::built, State::running, State::frozen, State::archived};
constexpr Operation operations[] = {Operation::enter,   Operation::exec,    Operation::stop,
                                    Operation::destroy, Operation::freeze,  Operation::archive,
                                    Operation::commit,  Operation::restore, Operation::rebuild,
                                    Operation::rename,  Operation::diff,    Operation::push};

// a = allowed, r = allowed read-only, f = needs --force, x = refused. Columns in the order of
// `operations`: enter exec stop destroy freeze archive commit restore rebuild rename diff push.
const char* expected[] = {
    /* built    */ "aaxaaaaaaaaa",
    /* running  */ "aaafxxxxfaaa",
    /* frozen   */ "rrxaxaxxaaaa",
    /* archived */ "xxxaxxxxaaaa",
};

Verdict verdict_of(char c) {
    switch (c) {
    case 'a': return Verdict::allowed;
    case 'r': return Verdict::allowed_read_only;
    case 'f': return Verdict::needs_force;
    default: return Verdict::refused;
    }
}

std::string refusal(State s, Operation op, bool force = false) {
    try {
        check_operation("web", s, op, force);
    } catch (const Error& e) {
        CHECK(e.code() == Errc::conflict);
        CHECK_FALSE(e.hint().empty());
        return std::string(e.what()) + " | " + e.hint();
    }
    return {};
}

}  // namespace

TEST_CASE("every state x operation pair follows the lifecycle table") {
    for (std::size_t si = 0; si < 4; ++si) {
        for (std::size_t oi = 0; oi < 12; ++oi) {
            const State s = states[si];
            const Operation op = operations[oi];
            const Verdict want = verdict_of(expected[si][oi]);
            INFO(to_string(s) << " x " << to_string(op));
            CHECK(rule(s, op).verdict == want);
            switch (want) {
            case Verdict::allowed:
            case Verdict::allowed_read_only: CHECK(check_operation("web", s, op) == want); break;
            case Verdict::needs_force: {
                auto text = refusal(s, op);
                CHECK(text.find("environment 'web'") != std::string::npos);
                CHECK(text.find("--force") != std::string::npos);
                CHECK(check_operation("web", s, op, true) == Verdict::needs_force);
                break;
            }
            case Verdict::refused: {
                auto text = refusal(s, op);
                CHECK(text.find("environment 'web'") != std::string::npos);
                CHECK(text.find("{env}") == std::string::npos);
                // --force never opens what the table refuses outright.
                CHECK_FALSE(refusal(s, op, true).empty());
                break;
            }
            }
        }
    }
}

TEST_CASE("an archived environment cannot be entered and says how to recover") {
    try {
        check_operation("web", State::archived, Operation::enter);
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "environment 'web' is archived; nothing can enter it");
        CHECK(e.hint() == "use `karapace rebuild` to make it usable again");
    }
}

TEST_CASE("destroying a running environment asks to stop it first or to force") {
    try {
        check_operation("web", State::running, Operation::destroy);
        FAIL("expected a refusal");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("is running") != std::string::npos);
        CHECK(e.hint().find("karapace stop web") != std::string::npos);
        CHECK(e.hint().find("--force") != std::string::npos);
    }
}

TEST_CASE("a frozen environment runs read-only and refuses snapshots") {
    CHECK(check_operation("web", State::frozen, Operation::enter) == Verdict::allowed_read_only);
    CHECK(check_operation("web", State::frozen, Operation::exec) == Verdict::allowed_read_only);
    for (Operation op : {Operation::commit, Operation::restore}) {
        auto text = refusal(State::frozen, op);
        CHECK(text.find("frozen") != std::string::npos);
        CHECK(text.find("karapace rebuild") != std::string::npos);
    }
}

TEST_CASE("running is derived from live sessions and never hides an archive") {
    CHECK(derive_state(State::built, false) == State::built);
    CHECK(derive_state(State::built, true) == State::running);
    CHECK(derive_state(State::frozen, true) == State::running);
    CHECK(derive_state(State::frozen, false) == State::frozen);
    CHECK(derive_state(State::archived, true) == State::archived);
    CHECK(read_only(State::frozen));
    CHECK_FALSE(read_only(State::built));
}

TEST_CASE("states and operations round-trip through their names") {
    for (State s : states)
        CHECK(parse_state(to_string(s)) == s);
    for (Operation op : operations)
        CHECK(parse_operation(to_string(op)) == op);
    CHECK(to_string(State::archived) == "archived");
    CHECK(to_string(Operation::rebuild) == "rebuild");
    CHECK_FALSE(parse_state("defined").has_value());
    CHECK_FALSE(parse_state("Built").has_value());
    CHECK_FALSE(parse_operation("init").has_value());
}
