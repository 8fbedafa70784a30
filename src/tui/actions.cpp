// What the action keys do: each asks (where the CLI would need --force or the change cannot be
// undone), then runs one engine call on the job thread and reports in the CLI's words.
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/results.hpp"
#include "karapace/util/error.hpp"
#include "tui/app.hpp"

namespace karapace::tui {

namespace {

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

std::string quoted(const std::string& label) { return "'" + label + "'"; }

std::string joined_items(const std::vector<core::ExportedItem>& items, const std::string& verb) {
    std::string text = verb + " " + cli::exported_item_text(items.front());
    if (items.size() > 1) text += " and " + std::to_string(items.size() - 1) + " more";
    return text;
}

}  // namespace

void App::enter_shell() {
    const auto env = *target();
    const auto who = label(env);
    screen_.suspend();
    std::printf("karapace: a shell in %s; exit it to come back to the TUI\n", who.c_str());
    std::fflush(stdout);
    // The same engine call as `karapace enter`.
    core::ExecOptions o;
    o.env = env.env_id;
    o.interactive = true;
    int status = 0;
    std::optional<Error> failure;
    try {
        status = engine_.run(o);
    } catch (const Error& e) {
        failure = e;
    }
    screen_.resume();
    reload();
    if (failure)
        st_.status = {StatusLine::Kind::error, std::string("error: ") + failure->what(),
                      failure->hint()};
    else
        say("the shell in " + who + " exited with status " + std::to_string(status));
    if (st_.view == View::detail) load_details(st_.detail_env);
}

void App::stop() {
    const auto env = *target();
    ask("stop every session of " + quoted(label(env)) + "?", [this, env] {
        start("stop " + label(env), [env](core::Engine& engine, ProgressSink&) {
            auto n = engine.stop(env.env_id, std::chrono::seconds(10));
            return cli::stopped_text(n, label(env));
        });
    });
}

void App::destroy() {
    const auto env = *target();
    ask("destroy environment " + quoted(label(env)) + "?", [this, env] {
        if (st_.view == View::detail) st_.view = View::list;
        start(
            "destroy " + label(env),
            [env](core::Engine& engine, ProgressSink&) {
                engine.destroy(env.env_id, false);
                return cli::destroyed_text(label(env));
            },
            false);
    });
}

void App::freeze() {
    const auto env = *target();
    start("freeze " + label(env), [env](core::Engine& engine, ProgressSink&) {
        engine.freeze(env.env_id);
        return cli::frozen_text(label(env));
    });
}

void App::archive() {
    const auto env = *target();
    start("archive " + label(env), [env](core::Engine& engine, ProgressSink&) {
        engine.archive(env.env_id);
        return cli::archived_text(label(env));
    });
}

void App::rename() {
    const auto env = *target();
    prompt("rename " + label(env) + " to: ", "", [this, env](const std::string& name) {
        if (name.empty()) {
            say("cancelled");
            return;
        }
        start("rename " + label(env), [env, name](core::Engine& engine, ProgressSink&) {
            engine.rename(env.env_id, name);
            return cli::renamed_text(label(env), name);
        });
    });
}

void App::commit() {
    const auto env = *target();
    start("commit " + label(env), [env](core::Engine& engine, ProgressSink& progress) {
        return cli::committed_text(engine.commit(env.env_id, progress), label(env));
    });
}

void App::restore() {
    const auto env = *target();
    std::vector<core::SnapshotInfo> snapshots;
    try {
        snapshots = engine_.snapshots(env.env_id);
    } catch (const Error& e) {
        st_.status = {StatusLine::Kind::error, std::string("error: ") + e.what(), e.hint()};
        return;
    }
    if (snapshots.empty()) {
        say("no snapshots of " + label(env) + " (make one with `karapace commit " + label(env) +
                "`)",
            StatusLine::Kind::warning);
        return;
    }
    // The newest is offered; any unique prefix of another one (4+ characters) works too.
    prompt("restore " + label(env) + " from snapshot: ", snapshots.back().id.substr(0, 12),
           [this, env](const std::string& id) {
               if (id.empty()) {
                   say("cancelled");
                   return;
               }
               ask("restore " + quoted(label(env)) + " from snapshot " + id +
                       "? Changes since are lost.",
                   [this, env, id] {
                       start("restore " + label(env),
                             [env, id](core::Engine& engine, ProgressSink& progress) {
                                 engine.restore(env.env_id, id, progress);
                                 return cli::restored_text(label(env), id);
                             });
                   });
           });
}

void App::export_apps() {
    const auto env = *target();
    prompt("export from " + label(env) + " (applications; none: the manifest's): ", "",
           [this, env](const std::string& text) {
               core::ExportOptions o;
               o.env = env.env_id;
               o.apps = words(text);
               o.refresh = o.apps.empty();
               start("export " + label(env), [env, o](core::Engine& engine, ProgressSink&) {
                   auto report = engine.export_items(o);
                   std::string text = report.exported.empty()
                                          ? "nothing exported from " + report.env
                                          : joined_items(report.exported, "exported");
                   for (const auto& w : report.warnings)
                       text += "; warning: " + w;
                   return text;
               });
           });
}

void App::unexport_apps() {
    const auto env = *target();
    auto run = [this, env](core::UnexportOptions o) {
        start("unexport " + label(env), [env, o](core::Engine& engine, ProgressSink&) {
            auto removed = engine.unexport_items(o);
            return removed.empty() ? "nothing was exported from " + label(env)
                                   : joined_items(removed, "removed");
        });
    };
    prompt("unexport from " + label(env) + " (applications; none: everything): ", "",
           [this, env, run](const std::string& text) {
               core::UnexportOptions o;
               o.env = env.env_id;
               o.apps = words(text);
               o.all = o.apps.empty();
               if (!o.all) {
                   run(o);
                   return;
               }
               ask("remove every launcher and wrapper of " + quoted(label(env)) + "?",
                   [run, o] { run(o); });
           });
}

void App::rebuild() {
    const auto env = *target();
    ask("rebuild " + quoted(label(env)) +
            " from its manifest? The new environment replaces it once built.",
        [this, env] {
            auto new_id = std::make_shared<std::string>();
            job_.start(
                "rebuild " + label(env),
                [this, env, new_id](ProgressSink& progress) {
                    core::Engine engine(options_.engine);
                    core::BuildOptions o;
                    o.manifest_path = engine.inspect(env.env_id).manifest_path;
                    o.replace = env.env_id;
                    auto r = engine.rebuild(o, progress);
                    *new_id = r.env_id;
                    return cli::build_text(r);
                },
                [this, new_id](const JobOutcome& outcome) {
                    // The detail view moves to the environment that replaced the old one.
                    if (outcome.ok && !new_id->empty() && st_.view == View::detail)
                        st_.detail_env = *new_id;
                    reload();
                    if (st_.view == View::detail) load_details(st_.detail_env);
                });
        });
}

void App::gc() {
    ask("gc: remove the layers, objects and images no environment uses?", [this] {
        start(
            "gc",
            [](core::Engine& engine, ProgressSink& progress) {
                return cli::gc_text(engine.gc(false, progress));
            },
            false);
    });
}

}  // namespace karapace::tui
