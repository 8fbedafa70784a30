// Commands that change an environment's state: stop, destroy, freeze, archive, rename.
#include <cstdlib>

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/results.hpp"
#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

void done(Output& out, const std::string& env, const std::string& status, std::string text) {
    out.json_result(boost::json::object{{"env", env}, {"status", status}});
    out.line(text);
}

}  // namespace

int run_stop(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    double seconds = std::strtod(inv.value("timeout", "10").c_str(), nullptr);
    auto engine = make_engine(inv, out);
    auto n = engine.stop(env, std::chrono::milliseconds(static_cast<long long>(seconds * 1000)));
    out.json_result(boost::json::object{{"env", env}, {"status", "stopped"}, {"sessions", n}});
    out.line(stopped_text(n, env));
    return 0;
}

int run_destroy(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto engine = make_engine(inv, out);
    engine.destroy(env, inv.flag("force"));
    done(out, env, "destroyed", destroyed_text(env));
    return 0;
}

int run_freeze(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto engine = make_engine(inv, out);
    engine.freeze(env);
    done(out, env, "frozen", frozen_text(env));
    return 0;
}

int run_archive(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto engine = make_engine(inv, out);
    engine.archive(env);
    done(out, env, "archived", archived_text(env));
    return 0;
}

int run_rename(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto name = inv.positional("new-name");
    auto engine = make_engine(inv, out);
    engine.rename(env, name);
    out.json_result(boost::json::object{{"env", env}, {"name", name}, {"status", "renamed"}});
    out.line(renamed_text(env, name));
    return 0;
}

}  // namespace karapace::cli
