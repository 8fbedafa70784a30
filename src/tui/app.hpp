// The TUI's main loop and what each key does. One thread owns the screen and the list; engine
// operations that take time run on the JobRunner's thread with an Engine of their own (as the
// D-Bus service runs its jobs), so the screen keeps moving and shows their progress.
#pragma once

#include <chrono>
#include <string>

#include "karapace/core/engine.hpp"
#include "tui/job.hpp"
#include "tui/screen.hpp"
#include "tui/store_watch.hpp"
#include "tui/tui.hpp"
#include "tui/ui_state.hpp"
#include "tui/views.hpp"

namespace karapace::tui {

class App {
public:
    App(const Options& options, Screen& screen);
    int run();
    bool job_running() const noexcept { return job_.busy(); }
    const std::string& job_title() const noexcept { return job_.title(); }

private:
    using Clock = std::chrono::steady_clock;

    void reload();
    void redraw();
    void watch_sessions();
    void on_key(int key);
    void on_list_key(int key);
    void on_detail_key(int key);
    void on_help_key(int key);
    bool on_action_key(int key);  // the keys both views share; true when `key` was one
    void on_prompt_key(int key);
    void on_mouse();
    void collect_job();
    void scroll_into_view();

    // The environment the keys act on: the selection, or the one the detail view shows.
    const core::EnvSummary* target() const;
    void open_details();
    void load_details(const std::string& env_id);
    // Runs an engine operation on the job thread with a fresh Engine; `work` returns the status
    // text. The list reloads afterwards (the store watch would, but this is at once).
    void start(std::string title, std::function<std::string(core::Engine&, ProgressSink&)> work,
               bool details_after = true);
    void ask(std::string question, std::function<void()> yes);
    void prompt(std::string label, std::string initial,
                std::function<void(const std::string&)> submit);
    void say(std::string text, StatusLine::Kind kind = StatusLine::Kind::info);

    void enter_shell();
    void stop();
    void destroy();
    void freeze();
    void archive();
    void rename();
    void commit();
    void restore();
    void export_apps();
    void unexport_apps();
    void rebuild();
    void gc();

    Options options_;
    Screen& screen_;
    Style style_;
    core::Engine engine_;
    JobRunner job_;
    StoreWatch watch_;
    UiState st_;
    bool quit_ = false;
    bool dirty_ = true;
    bool reload_due_ = false;
    bool sessions_to_watch_ = false;  // the list was read again; watch its sessions directories
    Clock::time_point reload_at_;
};

}  // namespace karapace::tui
