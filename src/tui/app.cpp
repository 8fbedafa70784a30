#include "tui/app.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "cli/results.hpp"
#include "karapace/util/error.hpp"

#include <curses.h>

namespace karapace::tui {

namespace {

constexpr int key_escape = 27;
constexpr int key_backspace = 127;
constexpr auto reload_delay = std::chrono::milliseconds(30);  // gathers a burst of events
constexpr auto spinner_interval = std::chrono::milliseconds(100);

bool is_enter(int key) { return key == '\r' || key == '\n' || key == KEY_ENTER; }

// A log line from stderr without the program name the log puts first.
std::string log_text(std::string line) {
    constexpr std::string_view prefix = "karapace: ";
    if (line.starts_with(prefix)) line.erase(0, prefix.size());
    return line;
}

}  // namespace

App::App(const Options& options, Screen& screen)
    : options_(options),
      screen_(screen),
      style_{screen.color(), screen.utf8()},
      engine_(options.engine),
      watch_(engine_.store_root()) {
    st_.store_root = engine_.store_root();
    init_style(style_);
}

void App::say(std::string text, StatusLine::Kind kind) {
    st_.status = {kind, std::move(text), {}};
    dirty_ = true;
}

void App::reload() {
    reload_due_ = false;
    try {
        st_.list.set_environments(engine_.list());
        sessions_to_watch_ = true;
    } catch (const Error& e) {
        st_.status = {StatusLine::Kind::error, std::string("error: ") + e.what(), e.hint()};
    }
    // The detail view follows too: its environment changed, or went.
    if (st_.view == View::detail && !job_.busy()) {
        bool still_there = std::any_of(st_.list.all().begin(), st_.list.all().end(),
                                       [&](const auto& e) { return e.env_id == st_.detail_env; });
        if (!still_there) {
            st_.view = View::list;
        } else if (st_.details) {
            auto it = std::find_if(st_.list.all().begin(), st_.list.all().end(),
                                   [&](const auto& e) { return e.env_id == st_.detail_env; });
            if (it->state != st_.details->state) load_details(st_.detail_env);
        }
    }
    scroll_into_view();
    dirty_ = true;
}

void App::scroll_into_view() {
    const auto rows = static_cast<std::size_t>(std::max(1, list_rows(LINES)));
    auto row = st_.list.selected_row().value_or(0);
    if (row < st_.list_top) st_.list_top = row;
    if (row >= st_.list_top + rows) st_.list_top = row + 1 - rows;
    if (st_.list_top + rows > st_.list.visible_count())
        st_.list_top = st_.list.visible_count() > rows ? st_.list.visible_count() - rows : 0;
}

void App::watch_sessions() {
    if (!sessions_to_watch_) return;
    sessions_to_watch_ = false;
    std::vector<std::string> ids;
    ids.reserve(st_.list.all().size());
    for (const auto& e : st_.list.all())
        ids.push_back(e.env_id);
    watch_.watch_sessions(ids);
}

void App::redraw() {
    draw(st_, job_, style_);
    dirty_ = false;
}

int App::run() {
    reload();
    if (st_.status.text.empty())
        say(std::to_string(st_.list.all().size()) + " environment(s); ? shows the keys");
    redraw();
    // After the first screen: a watch per environment is a good part of the start.
    watch_sessions();
    bool quitting = false;
    auto last_frame = Clock::now();
    while (true) {
        if ((quit_ || Screen::quit_requested()) && !quitting) {
            quitting = true;
            if (!job_.busy()) break;
            // Leave only when the operation has stopped at a safe point.
            job_.cancel();
            say("stopping " + job_.title() + " before quitting", StatusLine::Kind::warning);
        }
        if (quitting && !job_.busy()) break;
        pollfd fds[] = {
            {STDIN_FILENO, POLLIN, 0},   {Screen::quit_fd(), POLLIN, 0}, {watch_.fd(), POLLIN, 0},
            {job_.wake_fd(), POLLIN, 0}, {screen_.log_fd(), POLLIN, 0},
        };
        int timeout = 1000;
        if (job_.busy()) timeout = static_cast<int>(spinner_interval.count());
        if (reload_due_) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(reload_at_ - Clock::now());
            timeout = std::clamp(static_cast<int>(left.count()), 0, timeout);
        }
        int n = ::poll(fds, std::size(fds), timeout);
        if (n < 0 && errno != EINTR) throw_errno(Errc::failed, "poll");
        if (n > 0) {
            if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                // The terminal went away (a closed SSH connection): nothing to draw on.
                quit_ = true;
                job_.cancel();
            }
            if (fds[1].revents & POLLIN) {
                char buf[16];
                while (::read(Screen::quit_fd(), buf, sizeof buf) > 0) {}
                if (quitting) break;  // asked twice: stop waiting
            }
            if ((fds[2].revents & POLLIN) && watch_.drain() && !reload_due_) {
                reload_due_ = true;
                reload_at_ = Clock::now() + reload_delay;
            }
            if (fds[3].revents & POLLIN) {
                job_.drain_wake();
                collect_job();
                dirty_ = true;
            }
            if (fds[4].revents & POLLIN)
                for (auto& line : screen_.log_lines())
                    if (!line.empty()) say(log_text(line), StatusLine::Kind::warning);
        }
        if (reload_due_ && Clock::now() >= reload_at_) reload();
        for (int key; (key = getch()) != ERR;)
            on_key(key);
        if (job_.busy() && Clock::now() - last_frame >= spinner_interval) {
            last_frame = Clock::now();
            ++st_.frame;
            dirty_ = true;
        }
        if (dirty_) redraw();
        watch_sessions();
    }
    return 0;
}

void App::collect_job() {
    auto outcome = job_.collect();
    if (!outcome) return;
    // Details asked for while another operation was at work are read now.
    if (st_.view == View::detail && !job_.busy() &&
        (!st_.details || st_.details->env_id != st_.detail_env))
        load_details(st_.detail_env);
    // Reading the details says nothing unless it fails: the outcome of the action before it
    // stays on the status line.
    if (outcome->ok && outcome->message.empty()) return;
    st_.status = {outcome->ok ? StatusLine::Kind::info : StatusLine::Kind::error, outcome->message,
                  outcome->hint};
}

const core::EnvSummary* App::target() const {
    if (st_.view == View::detail) {
        for (const auto& e : st_.list.all())
            if (e.env_id == st_.detail_env) return &e;
        return nullptr;
    }
    return st_.list.selected();
}

void App::on_key(int key) {
    dirty_ = true;
    if (key == KEY_RESIZE) {
        scroll_into_view();
        return;
    }
    if (st_.question) {
        auto q = std::move(*st_.question);
        st_.question.reset();
        if (key == 'y' || key == 'Y')
            q.yes();
        else
            say("cancelled");
        return;
    }
    if (st_.prompt) {
        on_prompt_key(key);
        return;
    }
    st_.status.hint.clear();
    if (key == KEY_MOUSE) {
        on_mouse();
        return;
    }
    switch (st_.view) {
    case View::list: on_list_key(key); break;
    case View::detail: on_detail_key(key); break;
    case View::help: on_help_key(key); break;
    }
}

void App::on_list_key(int key) {
    const long page = std::max(1, list_rows(LINES) - 1);
    auto& l = st_.list;
    switch (key) {
    case 'q': quit_ = true; return;
    case key_escape:
        if (!l.filter().empty()) {
            l.set_filter("");
            say("filter cleared: " + std::to_string(l.all().size()) + " environment(s)");
        }
        break;
    case 'j':
    case KEY_DOWN: l.move(1); break;
    case 'k':
    case KEY_UP: l.move(-1); break;
    case 'g':
    case KEY_HOME: l.select_row(0); break;
    case 'G':
    case KEY_END: l.select_row(l.visible_count() == 0 ? 0 : l.visible_count() - 1); break;
    case KEY_NPAGE: l.move(page); break;
    case KEY_PPAGE: l.move(-page); break;
    case 'l':
    case KEY_RIGHT: open_details(); return;
    case '/': {
        prompt("search: ", l.filter(), {});
        st_.prompt->live = true;
        return;
    }
    case 's':
        l.cycle_sort();
        say("sorted by " + std::string(to_string(l.sort_key())));
        break;
    case 'S':
        l.reverse_sort();
        say(std::string("sorted by ") + std::string(to_string(l.sort_key())) +
            (l.descending() ? ", descending" : ", ascending"));
        break;
    case 'r':
        reload();
        say(std::to_string(l.all().size()) + " environment(s)");
        break;
    case '?':
        st_.help_from_detail = false;
        st_.view = View::help;
        return;
    default:
        if (is_enter(key)) {
            open_details();
            return;
        }
        on_action_key(key);
        return;
    }
    scroll_into_view();
}

void App::on_help_key(int key) {
    const auto rows = static_cast<std::size_t>(std::max(1, detail_rows(LINES)));
    const auto last = help_lines() > rows ? help_lines() - rows : 0;
    if (key == 'j' || key == KEY_DOWN) st_.help_top = std::min(st_.help_top + 1, last);
    if (key == 'k' || key == KEY_UP) st_.help_top = st_.help_top > 0 ? st_.help_top - 1 : 0;
    if (key == 'q' || key == key_escape || key == '?' || key == 'h' || key == KEY_LEFT)
        st_.view = st_.help_from_detail ? View::detail : View::list;
}

void App::on_detail_key(int key) {
    const std::size_t rows = static_cast<std::size_t>(std::max(1, detail_rows(LINES)));
    const std::size_t total = st_.details ? wrap_details(*st_.details, COLS).size() : 0;
    const std::size_t last = total > rows ? total - rows : 0;
    auto& top = st_.detail_top;
    switch (key) {
    case 'q':
    case 'h':
    case key_escape:
    case KEY_LEFT: st_.view = View::list; break;
    case 'j':
    case KEY_DOWN: top = std::min(top + 1, last); break;
    case 'k':
    case KEY_UP: top = top > 0 ? top - 1 : 0; break;
    case KEY_NPAGE: top = std::min(top + rows, last); break;
    case KEY_PPAGE: top = top > rows ? top - rows : 0; break;
    case 'g':
    case KEY_HOME: top = 0; break;
    case 'G':
    case KEY_END: top = last; break;
    case 'r': load_details(st_.detail_env); break;
    case '?':
        st_.help_from_detail = true;
        st_.view = View::help;
        break;
    default: on_action_key(key); break;
    }
}

bool App::on_action_key(int key) {
    static constexpr std::string_view actions = "exdfancoEURp";
    if (key <= 0 || key > 127 || actions.find(static_cast<char>(key)) == std::string_view::npos)
        return false;
    if (job_.busy()) {
        say(job_.title() + " is still at work; wait for it to finish", StatusLine::Kind::warning);
        return true;
    }
    if (key == 'p') {
        gc();
        return true;
    }
    if (target() == nullptr) {
        say("no environment selected", StatusLine::Kind::warning);
        return true;
    }
    switch (key) {
    case 'e': enter_shell(); break;
    case 'x': stop(); break;
    case 'd': destroy(); break;
    case 'f': freeze(); break;
    case 'a': archive(); break;
    case 'n': rename(); break;
    case 'c': commit(); break;
    case 'o': restore(); break;
    case 'E': export_apps(); break;
    case 'U': unexport_apps(); break;
    case 'R': rebuild(); break;
    default: break;
    }
    return true;
}

void App::on_prompt_key(int key) {
    auto& p = *st_.prompt;
    if (key == key_escape) {
        bool live = p.live;
        st_.prompt.reset();
        if (live) {
            st_.list.set_filter("");
            scroll_into_view();
            say("filter cleared: " + std::to_string(st_.list.all().size()) + " environment(s)");
        } else {
            say("cancelled");
        }
        return;
    }
    if (is_enter(key)) {
        auto done = std::move(*st_.prompt);
        st_.prompt.reset();
        if (done.live) {
            say("filter '" + done.text + "': " + std::to_string(st_.list.visible_count()) +
                " match(es)");
            return;
        }
        if (done.submit) done.submit(done.text);
        return;
    }
    if (key == KEY_BACKSPACE || key == key_backspace || key == 8) {
        // Remove the last character, not the last byte of a UTF-8 sequence.
        while (!p.text.empty() && (static_cast<unsigned char>(p.text.back()) & 0xC0) == 0x80)
            p.text.pop_back();
        if (!p.text.empty()) p.text.pop_back();
    } else if (key >= 0x20 && key < 0x100 && key != 0x7f) {
        p.text += static_cast<char>(key);
    } else {
        return;
    }
    if (p.live) {
        st_.list.set_filter(p.text);
        st_.list_top = 0;
        scroll_into_view();
    }
}

void App::on_mouse() {
    MEVENT ev{};
    if (getmouse(&ev) != OK) return;
    if (ev.bstate & BUTTON4_PRESSED) {
        on_key('k');
        return;
    }
    if (ev.bstate & BUTTON5_PRESSED) {
        on_key('j');
        return;
    }
    if (st_.view != View::list) return;
    int row = ev.y - 2;
    if (row < 0 || row >= list_rows(LINES)) return;
    auto index = st_.list_top + static_cast<std::size_t>(row);
    if (index >= st_.list.visible_count()) return;
    st_.list.select_row(index);
    if (ev.bstate & BUTTON1_DOUBLE_CLICKED) open_details();
}

void App::open_details() {
    const auto* e = st_.list.selected();
    if (e == nullptr) return;
    st_.view = View::detail;
    st_.detail_top = 0;
    if (st_.detail_env != e->env_id) st_.details.reset();
    st_.detail_env = e->env_id;
    load_details(e->env_id);
}

void App::load_details(const std::string& env_id) {
    if (job_.busy()) return;
    auto result = std::make_shared<Details>();
    job_.start(
        "reading the details",
        [this, env_id, result](ProgressSink&) {
            core::Engine engine(options_.engine);
            *result = tui::load_details(engine, env_id);
            return std::string();
        },
        [this, result](const JobOutcome& outcome) {
            if (!outcome.ok || result->env_id != st_.detail_env) return;
            st_.details = std::move(*result);
            auto rows = static_cast<std::size_t>(std::max(1, detail_rows(LINES)));
            auto total = wrap_details(*st_.details, COLS).size();
            st_.detail_top = std::min(st_.detail_top, total > rows ? total - rows : 0);
        });
}

void App::start(std::string title, std::function<std::string(core::Engine&, ProgressSink&)> work,
                bool details_after) {
    job_.start(
        std::move(title),
        [this, work = std::move(work)](ProgressSink& progress) {
            core::Engine engine(options_.engine);
            return work(engine, progress);
        },
        [this, details_after](const JobOutcome&) {
            reload();
            if (details_after && st_.view == View::detail) load_details(st_.detail_env);
        });
}

void App::ask(std::string question, std::function<void()> yes) {
    st_.question = Question{std::move(question) + " (y/n)", std::move(yes)};
}

void App::prompt(std::string label, std::string initial,
                 std::function<void(const std::string&)> submit) {
    st_.prompt = Prompt{std::move(label), std::move(initial), false, std::move(submit)};
}

}  // namespace karapace::tui
