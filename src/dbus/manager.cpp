#include "manager.hpp"

#include <memory>
#include <utility>

#include "caller.hpp"
#include "cli_location.hpp"
#include "errors.hpp"
#include "karapace/schema/templates.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace_config.h"
#include "manifest_path.hpp"
#include "new_manifest.hpp"

namespace karapace::dbus {

namespace {

using Strings = std::vector<std::string>;

// SIGTERM to SIGKILL grace for Stop(), as `karapace stop` uses.
constexpr std::chrono::seconds stop_grace{10};

std::vector<uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

std::string quoted_args(const Strings& argv) {
    std::string out;
    for (const auto& arg : argv)
        out += (out.empty() ? "'" : " '") + arg + "'";
    return out;
}

void require_command(const Strings& argv, const char* method) {
    if (argv.empty() || argv.front().empty()) {
        throw Error(Errc::usage, std::string(method) + " needs a command to run",
                    "pass argv with the program first, e.g. [\"ls\", \"-l\"]");
    }
}

}  // namespace

Manager::Manager(sdbus::IConnection& connection, ManagerSettings settings, BusLoop& loop,
                 IdleTracker& idle, WorkerThreads& threads, JobRunner& jobs,
                 const PropertyReaders& readers, StoreEnvList& env_list)
    : AdaptorInterfaces(connection, manager_path),
      settings_(std::move(settings)),
      loop_(loop),
      idle_(idle),
      threads_(threads),
      jobs_(jobs),
      readers_(readers),
      env_list_(env_list) {
    loop_.on_readable(env_list_.watch.fd(), [this] { env_list_.watch.drain(); });
    registerAdaptor();
}

Manager::~Manager() {
    unregisterAdaptor();
    loop_.on_readable(-1, {});
}

void Manager::environment_added(const std::string& env_id) {
    env_list_.cache.invalidate(env_id);
    emitEnvironmentAdded(env_id);
}

void Manager::environment_changed(const std::string& env_id) {
    env_list_.cache.invalidate(env_id);
    emitEnvironmentChanged(env_id);
}

void Manager::environment_removed(const std::string& env_id) {
    env_list_.cache.invalidate(env_id);
    emitEnvironmentRemoved(env_id);
}

void Manager::read_property() {
    readers_.require_same_user();
    idle_.touch();
}

std::string Manager::Version() {
    read_property();
    return KARAPACE_VERSION;
}

void Manager::accept(const char* method, const std::string& args) {
    idle_.touch();
    readers_.require_same_user(getObject());
    log::info("call ", method, args.empty() ? "" : " ", args);
}

core::EngineOptions Manager::engine_options(JobProgress* progress) const {
    return engine_options_for(settings_, progress);
}

core::EngineOptions engine_options_for(const ManagerSettings& settings, JobProgress* progress) {
    core::EngineOptions options;
    options.store_root = settings.store_root;
    // Launchers refreshed by builds, renames and rebuilds run the same karapace as Export's;
    // without one the engine reports the refresh as failed rather than write a bare name.
    if (auto cli = find_cli(this_process_cli_search())) options.program = *cli;
    if (progress) {
        options.on_lock_wait = [progress](const std::string& message) {
            progress->waiting_for_lock(message);
        };
    } else {
        options.lock_timeout = settings.call_lock_timeout;
    }
    return options;
}

template <typename... R, typename Work>
void Manager::answer_later(sdbus::Result<R...>&& result, Work work, std::function<void()> after) {
    auto pending = std::make_shared<sdbus::Result<R...>>(std::move(result));
    auto busy = std::make_shared<BusyGuard>(idle_);
    try {
        threads_.spawn(
            [this, pending, busy, work = std::move(work), after = std::move(after)]() mutable {
                std::function<void()> reply;
                try {
                    reply = [pending, encode = work()] {
                        try {
                            std::apply(
                                [&](const auto&... values) { pending->returnResults(values...); },
                                encode());
                        } catch (...) {
                            pending->returnError(to_dbus_error(std::current_exception()));
                        }
                    };
                } catch (...) {
                    reply = [pending, error = std::current_exception()] {
                        pending->returnError(to_dbus_error(error));
                    };
                }
                // The service stays busy (not idle) until `after` is done too.
                loop_.post([reply = std::move(reply), busy]() mutable {
                    reply();
                    busy.reset();
                });
                if (after) {
                    try {
                        after();
                    } catch (const std::exception& e) {
                        log::warn(e.what());
                    }
                }
            });
    } catch (...) {
        pending->returnError(to_dbus_error(std::current_exception()));
    }
}

sdbus::ObjectPath Manager::start_job(const char* kind, std::string description,
                                     JobRunner::Work work, std::string subject, bool notify) {
    try {
        return jobs_.start(kind, std::move(description), std::move(work), std::move(subject),
                           notify);
    } catch (...) {
        throw to_dbus_error(std::current_exception());
    }
}

// --- reading -------------------------------------------------------------------------------

void Manager::ListEnvironments(sdbus::Result<std::vector<EnvRecord>>&& result) {
    accept("ListEnvironments");
    // Nothing to read (the usual warm call): answered here, without a worker thread.
    if (auto current = env_list_.cache.list_if_current()) {
        try {
            auto records = encoded_list(*current);
            result.returnResults(*records);
        } catch (...) {
            result.returnError(to_dbus_error(std::current_exception()));
        }
        return;
    }
    answer_later(
        std::move(result),
        [this] {
            auto records = encoded_list(env_list_.cache.list());
            return std::function(
                [records] { return std::tuple<const std::vector<EnvRecord>&>(*records); });
        },
        [this] { env_list_.cache.watch_unwatched(); });
}

std::shared_ptr<const std::vector<EnvRecord>> Manager::encoded_list(
    const EnvListCache::Summaries& envs) {
    std::lock_guard lock(encoded_mutex_);
    if (encoded_from_ != envs) {
        std::vector<EnvRecord> records;
        records.reserve(envs->size());
        for (const auto& env : *envs)
            records.push_back(encode_summary(env));
        encoded_ = std::make_shared<const std::vector<EnvRecord>>(std::move(records));
        encoded_from_ = envs;
    }
    return encoded_;
}

void Manager::GetEnvironment(sdbus::Result<ResultMap>&& result, std::string env) {
    accept("GetEnvironment", env);
    answer_later(std::move(result), [this, env] {
        auto details = core::Engine(engine_options()).inspect(env);
        return std::function([details] { return std::tuple(encode_details(details)); });
    });
}

void Manager::ListSnapshots(sdbus::Result<std::vector<SnapshotRecord>>&& result, std::string env) {
    accept("ListSnapshots", env);
    answer_later(std::move(result), [this, env] {
        auto snapshots = core::Engine(engine_options()).snapshots(env);
        return std::function([snapshots] {
            std::vector<SnapshotRecord> records;
            for (const auto& s : snapshots)
                records.push_back(encode_snapshot(s));
            return std::tuple(records);
        });
    });
}

void Manager::Diff(sdbus::Result<Strings, Strings, Strings>&& result, std::string env) {
    accept("Diff", env);
    answer_later(std::move(result), [this, env] {
        auto diff = core::Engine(engine_options()).diff(env);
        return std::function(
            [diff] { return std::tuple(diff.added, diff.modified, diff.removed); });
    });
}

std::vector<sdbus::ObjectPath> Manager::ListJobs() {
    accept("ListJobs");
    return jobs_.paths();
}

// --- new manifests ---------------------------------------------------------------------------

std::vector<sdbus::Struct<std::string, std::string, std::string>> Manager::ListTemplates() {
    accept("ListTemplates");
    std::vector<sdbus::Struct<std::string, std::string, std::string>> out;
    for (const auto& t : schema::templates())
        out.emplace_back(t.name, t.description, t.text);
    return out;
}

void Manager::CreateFromTemplate(sdbus::Result<std::string>&& result, std::string name,
                                 std::string dir, ResultMap options) {
    accept("CreateFromTemplate", name + " " + dir);
    TemplateRequest request;
    try {
        request = decode_template_request(name, dir, options);
    } catch (...) {
        result.returnError(to_dbus_error(std::current_exception()));
        return;
    }
    answer_later(std::move(result), [request] {
        auto path = write_template_manifest(request);
        return std::function([path] { return std::tuple(path); });
    });
}

// --- changing an environment ---------------------------------------------------------------

void Manager::Destroy(sdbus::Result<>&& result, std::string env, bool force) {
    accept("Destroy", env + (force ? " force" : ""));
    answer_later(std::move(result), [this, env, force] {
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        engine.destroy(env_id, force);
        return std::function([this, env_id] {
            environment_removed(env_id);
            return std::tuple<>();
        });
    });
}

void Manager::Stop(sdbus::Result<uint32_t>&& result, std::string env) {
    accept("Stop", env);
    answer_later(std::move(result), [this, env] {
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        auto stopped = static_cast<uint32_t>(engine.stop(env_id, stop_grace));
        return std::function([this, env_id, stopped] {
            environment_changed(env_id);
            return std::tuple(stopped);
        });
    });
}

void Manager::Freeze(sdbus::Result<>&& result, std::string env) {
    accept("Freeze", env);
    answer_later(std::move(result), [this, env] {
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        engine.freeze(env_id);
        return std::function([this, env_id] {
            environment_changed(env_id);
            return std::tuple<>();
        });
    });
}

void Manager::Archive(sdbus::Result<>&& result, std::string env) {
    accept("Archive", env);
    answer_later(std::move(result), [this, env] {
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        engine.archive(env_id);
        return std::function([this, env_id] {
            environment_changed(env_id);
            return std::tuple<>();
        });
    });
}

void Manager::Rename(sdbus::Result<>&& result, std::string env, std::string name) {
    accept("Rename", env + " " + name);
    answer_later(std::move(result), [this, env, name] {
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        engine.rename(env_id, name);
        return std::function([this, env_id] {
            environment_changed(env_id);
            return std::tuple<>();
        });
    });
}

// --- running commands ----------------------------------------------------------------------

void Manager::Exec(
    sdbus::Result<int32_t, std::vector<uint8_t>, std::vector<uint8_t>, bool>&& result,
    std::string env, Strings argv, Strings env_vars) {
    accept("Exec", env + " " + quoted_args(argv));
    answer_later(std::move(result), [this, env, argv, env_vars] {
        require_command(argv, "Exec");
        core::ExecOptions exec;
        exec.env = env;
        exec.argv = argv;
        exec.env_vars = env_vars;
        // The service's own working directory means nothing to the caller.
        exec.cwd = home_dir();
        auto output = core::Engine(engine_options()).run_captured(exec, settings_.exec_output_cap);
        return std::function([output] {
            return std::tuple(static_cast<int32_t>(output.exit_status), bytes(output.out),
                              bytes(output.err), output.truncated);
        });
    });
}

void Manager::LaunchApp(sdbus::Result<std::string>&& result, std::string env, Strings argv) {
    accept("LaunchApp", env + " " + quoted_args(argv));
    answer_later(std::move(result), [this, env, argv] {
        require_command(argv, "LaunchApp");
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        core::ExecOptions exec;
        exec.env = env_id;
        exec.argv = argv;
        exec.cwd = home_dir();
        auto session = std::to_string(engine.launch(exec));
        return std::function([this, env_id, session] {
            environment_changed(env_id);
            return std::tuple(session);
        });
    });
}

// --- launchers on the host -----------------------------------------------------------------

void Manager::Export(sdbus::Result<std::vector<ExportRecord>, Strings>&& result, std::string env,
                     Strings apps, Strings bins, ResultMap options) {
    accept("Export", env + " " + quoted_args(apps) + " " + quoted_args(bins));
    core::ExportOptions o;
    o.env = env;
    o.apps = apps;
    o.bins = bins;
    o.refresh = apps.empty() && bins.empty();
    try {
        // Variants are decoded here, on the bus thread.
        decode_export_options(options, o);
    } catch (...) {
        result.returnError(to_dbus_error(std::current_exception()));
        return;
    }
    answer_later(std::move(result), [this, o] {
        auto options = engine_options();
        options.program = locate_cli(this_process_cli_search());
        auto report = core::Engine(options).export_items(o);
        return std::function([this, report] {
            environment_changed(report.env_id);
            return std::tuple(encode_exports(report.exported), report.warnings);
        });
    });
}

void Manager::Unexport(sdbus::Result<std::vector<ExportRecord>>&& result, std::string env,
                       Strings apps, Strings bins, bool all) {
    accept("Unexport", env + (all ? " all" : " " + quoted_args(apps) + " " + quoted_args(bins)));
    answer_later(std::move(result), [this, env, apps, bins, all] {
        core::Engine engine(engine_options());
        auto env_id = engine.inspect(env).summary.env_id;
        auto removed =
            engine.unexport_items({.env = env_id, .apps = apps, .bins = bins, .all = all});
        return std::function([this, env_id, removed] {
            environment_changed(env_id);
            return std::tuple(encode_exports(removed));
        });
    });
}

void Manager::ListExports(sdbus::Result<std::vector<ExportRecord>>&& result, std::string env) {
    accept("ListExports", env);
    answer_later(std::move(result), [this, env] {
        auto items = core::Engine(engine_options()).exports(env);
        return std::function([items] { return std::tuple(encode_exports(items)); });
    });
}

// --- jobs ----------------------------------------------------------------------------------

sdbus::ObjectPath Manager::start_build(const char* kind, const std::string& manifest_path,
                                       const ResultMap& options) {
    accept(kind, manifest_path);
    core::BuildOptions build;
    bool notify = true;
    try {
        auto build_options = options;
        notify = take_notify_option(build_options);
        build = decode_build_options(validate_manifest_path(manifest_path), build_options);
    } catch (...) {
        throw to_dbus_error(std::current_exception());
    }
    bool rebuild = std::string_view(kind) == "rebuild";
    return start_job(
        kind, std::string(kind) + " " + manifest_path,
        [this, build, rebuild](JobProgress& progress) -> JobRunner::Encoder {
            core::Engine engine(engine_options(&progress));
            auto done = rebuild ? engine.rebuild(build, progress) : engine.build(build, progress);
            return [this, done] {
                if (!done.reused)
                    environment_added(done.env_id);
                else
                    env_list_.cache.invalidate(done.env_id);  // its record may have been updated
                if (done.replaced_env_id && *done.replaced_env_id != done.env_id) {
                    environment_removed(*done.replaced_env_id);
                }
                return encode_build(done);
            };
        },
        build.name.value_or(manifest_path), notify);
}

sdbus::ObjectPath Manager::Build(const std::string& manifest_path, const ResultMap& options) {
    return start_build("build", manifest_path, options);
}

sdbus::ObjectPath Manager::Rebuild(const std::string& manifest_path, const ResultMap& options) {
    return start_build("rebuild", manifest_path, options);
}

sdbus::ObjectPath Manager::Commit(const std::string& env) {
    accept("Commit", env);
    return start_job(
        "commit", "commit " + env,
        [this, env](JobProgress& progress) {
            core::Engine engine(engine_options(&progress));
            auto env_id = engine.inspect(env).summary.env_id;
            auto snapshot = engine.commit(env_id, progress);
            return JobRunner::Encoder([this, env_id, snapshot] {
                environment_changed(env_id);
                return encode_commit(env_id, snapshot);
            });
        },
        env);
}

sdbus::ObjectPath Manager::Push(const std::string& env, const ResultMap& options) {
    accept("Push", env);
    core::PushOptions push;
    bool notify = true;
    try {
        auto push_options = options;
        notify = take_notify_option(push_options);
        push = decode_push_options(env, push_options);
    } catch (...) {
        throw to_dbus_error(std::current_exception());
    }
    return start_job(
        "push", "push " + env,
        [this, push](JobProgress& progress) {
            auto done = core::Engine(engine_options(&progress)).push(push, progress);
            return JobRunner::Encoder([done] { return encode_push(done); });
        },
        env, notify);
}

sdbus::ObjectPath Manager::Pull(const std::string& reference, const ResultMap& options) {
    accept("Pull", reference);
    core::PullOptions pull;
    bool notify = true;
    try {
        auto pull_options = options;
        notify = take_notify_option(pull_options);
        pull = decode_pull_options(reference, pull_options);
    } catch (...) {
        throw to_dbus_error(std::current_exception());
    }
    return start_job(
        "pull", "pull " + reference,
        [this, pull](JobProgress& progress) {
            auto done = core::Engine(engine_options(&progress)).pull(pull, progress);
            return JobRunner::Encoder([this, done] {
                if (!done.already_present && done.snapshot_added.empty())
                    environment_added(done.env_id);
                else if (!done.snapshot_added.empty() || done.renamed)
                    environment_changed(done.env_id);
                return encode_pull(done);
            });
        },
        reference, notify);
}

sdbus::ObjectPath Manager::Restore(const std::string& env, const std::string& snapshot) {
    accept("Restore", env + " " + snapshot);
    return start_job(
        "restore", "restore " + env + " to " + snapshot,
        [this, env, snapshot](JobProgress& progress) {
            core::Engine engine(engine_options(&progress));
            auto env_id = engine.inspect(env).summary.env_id;
            engine.restore(env_id, snapshot, progress);
            return JobRunner::Encoder([this, env_id, snapshot] {
                environment_changed(env_id);
                ResultMap map;
                map["env_id"] = env_id;
                map["snapshot"] = snapshot;
                return map;
            });
        },
        env);
}

sdbus::ObjectPath Manager::Gc(const bool& dry_run) {
    accept("Gc", dry_run ? "dry-run" : "");
    return start_job(
        "gc", dry_run ? "gc (dry run)" : "gc",
        [this, dry_run](JobProgress& progress) {
            auto summary = core::Engine(engine_options(&progress)).gc(dry_run, progress);
            return JobRunner::Encoder([this, summary] {
                if (!summary.dry_run) {
                    for (const auto& env_id : summary.envs)
                        environment_removed(env_id);
                }
                return encode_gc(summary);
            });
        },
        "the store");
}

sdbus::ObjectPath Manager::VerifyStore() {
    accept("VerifyStore");
    return start_job(
        "verify", "verify store " + settings_.store_root,
        [this](JobProgress& progress) {
            auto summary = core::Engine(engine_options(&progress)).verify_store(progress);
            return JobRunner::Encoder([summary] { return encode_verify(summary); });
        },
        "the store");
}

}  // namespace karapace::dbus
