#include "tui/views.hpp"

#include <algorithm>
#include <array>
#include <cwchar>
#include <utility>

#include "cli/progress.hpp"
#include "karapace_config.h"

#include <curses.h>

namespace karapace::tui {

namespace {

enum Pair : short { running_pair = 1, frozen_pair, archived_pair, error_pair, warning_pair };

constexpr int name_width = 18;
constexpr int id_width = 14;
constexpr int state_width = 10;
constexpr int field_indent = 16;  // where a field's value starts in the detail view

// The keys, as the help view lists them (and docs/tui.md repeats). Each fits 80 columns.
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> help_rows{{
    {"j k Down Up", "move down, up (in the detail view: scroll)"},
    {"g G Home End", "go to the top, the bottom"},
    {"PgDn PgUp", "move a page"},
    {"Enter l", "details: state, image, packages, layers, sessions, drift"},
    {"/", "search by name, id, state or image; Enter keeps, Esc clears"},
    {"s S", "sort by the next column; reverse the order"},
    {"e", "enter a shell in it; the TUI comes back when the shell exits"},
    {"x", "stop every session (asks first)"},
    {"d", "destroy (asks first: y removes it, any other key keeps it)"},
    {"f", "freeze: read-only from now on"},
    {"a", "archive: kept, but cannot be entered"},
    {"n", "rename"},
    {"c", "commit its changes as a snapshot"},
    {"o", "restore a snapshot (asks first)"},
    {"E", "export applications to the host (none named: the manifest's)"},
    {"U", "unexport applications (none named: all of them, asks first)"},
    {"R", "rebuild from its manifest (asks first)"},
    {"p", "gc: remove what no environment uses (asks first)"},
    {"r", "read the list (or the details) again"},
    {"q Esc h", "back; q in the list quits"},
    {"mouse", "a click selects, a double click opens, the wheel scrolls"},
    {"Ctrl-C", "quit (a running operation is asked to stop first)"},
}};

std::size_t char_columns(wchar_t wc) {
    int w = ::wcwidth(wc);
    return w < 0 ? 1 : static_cast<std::size_t>(w);
}

attr_t state_attr(std::string_view state, const Style& style) {
    if (!style.color) return state == "running" ? A_BOLD : A_NORMAL;
    if (state == "running") return COLOR_PAIR(running_pair) | A_BOLD;
    if (state == "frozen") return COLOR_PAIR(frozen_pair);
    if (state == "archived") return COLOR_PAIR(archived_pair);
    return A_NORMAL;
}

void put(int y, int x, std::string_view text, int width, const Style& style, attr_t attr = 0,
         bool pad = false) {
    if (width <= 0) return;
    auto s = fit(text, width, style.utf8, pad);
    attron(attr);
    mvaddstr(y, x, s.c_str());
    attroff(attr);
}

std::string ellipsis(const Style& style) { return style.utf8 ? "…" : "..."; }

// Columns of a text the TUI writes itself (one per character: no wide characters in it).
int columns(std::string_view text) {
    int n = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

void draw_title(const UiState& st, const Style& style, int cols) {
    const auto& l = st.list;
    std::string right =
        std::to_string(l.visible_count()) + " of " + std::to_string(l.all().size()) +
        " environments  sort: " + std::string(to_string(l.sort_key())) + " " +
        (l.descending() ? (style.utf8 ? "↓" : "v") : (style.utf8 ? "↑" : "^")) + " ";
    put(0, 0, "", cols, style, A_REVERSE, true);
    const int right_cols = std::min(cols, columns(right));
    put(0, cols - right_cols, right, right_cols, style, A_REVERSE);
    // The store path gives way first, from its start: its end names the store.
    std::string left = " Karapace " KARAPACE_VERSION "  ";
    const int room = cols - right_cols - 1 - static_cast<int>(left.size());
    std::string path = st.store_root;
    if (room > 4 && static_cast<int>(path.size()) > room)
        path = ellipsis(style) + path.substr(path.size() - static_cast<std::size_t>(room - 3));
    put(0, 0, left + path, std::max(0, cols - right_cols - 1), style, A_REVERSE | A_BOLD);
}

void draw_list(const UiState& st, const Style& style, int lines, int cols) {
    const int image_width = std::max(0, cols - 2 - name_width - id_width - state_width);
    put(1, 0,
        fit("  NAME", 2 + name_width, style.utf8, true) + fit("SHORT_ID", id_width, false, true) +
            fit("STATE", state_width, false, true) + "BASE IMAGE",
        cols, style, A_BOLD, true);
    const auto& l = st.list;
    const int rows = list_rows(lines);
    if (l.all().empty()) {
        put(3, 2, "No environments in " + st.store_root + ".", cols - 2, style);
        put(4, 2, "Build one with `karapace build`; it shows up here. Press q to quit.", cols - 2,
            style);
        return;
    }
    if (l.visible_count() == 0) {
        put(3, 2, "No environment matches '" + l.filter() + "'. Esc clears the filter.", cols - 2,
            style);
        return;
    }
    auto selected = l.selected_row().value_or(0);
    for (int r = 0; r < rows; ++r) {
        std::size_t row = st.list_top + static_cast<std::size_t>(r);
        if (row >= l.visible_count()) break;
        const auto& e = l.all()[l.visible()[row]];
        const bool sel = row == selected;
        const int y = 2 + r;
        const attr_t base = sel ? A_REVERSE : A_NORMAL;
        put(y, 0, sel ? "> " : "  ", 2, style, base);
        put(y, 2, e.name.empty() ? "-" : e.name, name_width, style, base | (sel ? A_BOLD : 0),
            true);
        put(y, 2 + name_width, e.short_id, id_width, style, base, true);
        std::string state = e.state;
        put(y, 2 + name_width + id_width, state, state_width, style,
            base | state_attr(e.state, style), true);
        // The digest after '#' is in the details; the list has room for where the image is.
        std::string image = e.base_image.substr(0, e.base_image.find('#'));
        if (static_cast<int>(image.size()) > image_width && image_width > 8) {
            // The end of an image reference says the most (the file or the tag).
            image = ellipsis(style) +
                    image.substr(image.size() - static_cast<std::size_t>(image_width - 3));
        }
        put(y, 2 + name_width + id_width + state_width, image, image_width, style, base, true);
    }
}

void draw_detail(const UiState& st, const Style& style, int lines, int cols) {
    if (!st.details || st.details->env_id != st.detail_env) {
        put(2, 2, "reading the details" + ellipsis(style), cols - 2, style);
        return;
    }
    const auto& d = *st.details;
    put(1, 0, " " + d.label + "  (" + d.state + ")", cols, style, A_BOLD, true);
    const auto shown = wrap_details(d, cols);
    const int rows = detail_rows(lines);
    for (int r = 0; r < rows; ++r) {
        std::size_t i = st.detail_top + static_cast<std::size_t>(r);
        if (i >= shown.size()) break;
        const auto& ln = shown[i];
        const int y = 2 + r;
        switch (ln.kind) {
        case DetailLine::Kind::heading: put(y, 1, ln.text, cols - 1, style, A_BOLD); break;
        case DetailLine::Kind::field: {
            if (!ln.label.empty()) put(y, 2, ln.label + ":", field_indent - 2, style, A_BOLD, true);
            attr_t attr = ln.label == "state" ? state_attr(ln.text, style) : A_NORMAL;
            put(y, field_indent, ln.text, cols - field_indent, style, attr);
            break;
        }
        case DetailLine::Kind::text: put(y, 1, ln.text, cols - 1, style); break;
        }
    }
    if (shown.size() > static_cast<std::size_t>(rows)) {
        auto last = std::min(shown.size(), st.detail_top + static_cast<std::size_t>(rows));
        std::string where = " lines " + std::to_string(st.detail_top + 1) + "-" +
                            std::to_string(last) + " of " + std::to_string(shown.size()) + " ";
        put(1, std::max(0, cols - static_cast<int>(where.size())), where,
            static_cast<int>(where.size()), style, A_DIM);
    }
}

void draw_help(const UiState& st, const Style& style, int lines, int cols) {
    put(1, 0, " Keys (the list follows changes other karapace commands make)", cols, style, A_BOLD,
        true);
    const int rows = detail_rows(lines);
    for (int r = 0; r < rows; ++r) {
        std::size_t i = st.help_top + static_cast<std::size_t>(r);
        if (i >= help_rows.size()) break;
        put(2 + r, 2, help_rows[i].first, 14, style, A_BOLD, true);
        put(2 + r, 16, help_rows[i].second, cols - 16, style);
    }
}

std::string job_line(const JobProgress& p, unsigned frame, const Style& style, int cols) {
    std::string what = p.title + (p.step.empty() ? "" : ": " + p.step);
    auto line = cli::render_progress_line(what, p.done, p.total, p.unit, p.elapsed, frame,
                                          static_cast<std::size_t>(std::max(cols - 1, 1)));
    if (p.total == 0 && !style.utf8) {
        // The CLI's spinner is braille; a plain terminal gets a turning bar instead.
        static constexpr std::array<char, 4> bar{'|', '/', '-', '\\'};
        auto space = line.find(' ');
        line = std::string(1, bar[frame % bar.size()]) +
               (space == std::string::npos ? "" : line.substr(space));
    }
    return " " + line;
}

std::string keys_line(const UiState& st) {
    switch (st.view) {
    case View::help: return " q back  j/k scroll";
    case View::detail:
        return " q back  j/k scroll  e shell  x stop  d destroy  f freeze  c commit  o restore  "
               "R rebuild  ? help";
    case View::list: break;
    }
    return " Enter details  / search  s sort  e shell  d destroy  f freeze  a archive  n rename  "
           "? help  q quit";
}

void draw_bottom(const UiState& st, const JobRunner& job, const Style& style, int lines, int cols) {
    const int status_y = lines - 2;
    const int keys_y = lines - 1;
    put(status_y, 0, "", cols, style, A_NORMAL, true);
    put(keys_y, 0, "", cols, style, A_NORMAL, true);
    if (job.busy()) {
        auto p = job.progress();
        put(status_y, 0, job_line(p, st.frame, style, cols), cols, style, A_BOLD);
        if (!p.note.empty()) put(keys_y, 0, " " + p.note, cols, style, A_DIM);
    } else {
        attr_t attr = A_NORMAL;
        if (st.status.kind == StatusLine::Kind::error)
            attr = A_BOLD | (style.color ? COLOR_PAIR(error_pair) : 0);
        if (st.status.kind == StatusLine::Kind::warning)
            attr = style.color ? COLOR_PAIR(warning_pair) : A_NORMAL;
        put(status_y, 0, " " + st.status.text, cols, style, attr);
    }
    if (st.question) {
        put(keys_y, 0, " " + st.question->text, cols, style, A_BOLD | A_REVERSE, true);
    } else if (st.prompt) {
        std::string text = " " + st.prompt->label + st.prompt->text;
        put(keys_y, 0, text, cols, style, A_BOLD, true);
        // The cursor stays hidden; an underscore shows where typing goes.
        int x = std::min(cols - 1, static_cast<int>(fit(text, cols, style.utf8).size()));
        put(keys_y, x, "_", 1, style, A_BOLD | A_BLINK);
    } else if (!job.busy()) {
        if (!st.status.hint.empty())
            put(keys_y, 0, " hint: " + st.status.hint, cols, style, A_NORMAL);
        else
            put(keys_y, 0, keys_line(st), cols, style, A_DIM);
    }
}

}  // namespace

std::string fit(std::string_view text, int width, bool utf8, bool pad) {
    std::string out;
    if (width <= 0) return out;
    const auto max = static_cast<std::size_t>(width);
    std::size_t cols = 0;
    if (!utf8) {
        for (unsigned char c : text) {
            if (cols == max) break;
            // Continuation bytes of one character give one '?'.
            if (c >= 0x80 && (c & 0xC0) == 0x80) continue;
            out += c < 0x80 && c >= 0x20 ? static_cast<char>(c) : '?';
            ++cols;
        }
    } else {
        std::mbstate_t mb{};
        const char* p = text.data();
        std::size_t left = text.size();
        while (left > 0) {
            wchar_t wc = 0;
            std::size_t n = std::mbrtowc(&wc, p, left, &mb);
            if (n == 0 || n == static_cast<std::size_t>(-1) || n == static_cast<std::size_t>(-2)) {
                mb = {};
                if (cols + 1 > max) break;
                out += '?';
                ++cols;
                ++p;
                --left;
                continue;
            }
            std::size_t w = wc < 0x20 ? 1 : char_columns(wc);
            if (cols + w > max) break;
            if (wc < 0x20)
                out += '?';
            else
                out.append(p, n);
            cols += w;
            p += n;
            left -= n;
        }
    }
    if (pad && cols < max) out.append(max - cols, ' ');
    return out;
}

namespace {

// `text` in pieces of at most `width` characters (UTF-8 sequences kept whole).
std::vector<std::string> pieces(const std::string& text, std::size_t width) {
    std::vector<std::string> out;
    std::size_t start = 0, count = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        bool boundary = i == text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
        if (!boundary) continue;
        if (count == width || i == text.size()) {
            out.push_back(text.substr(start, i - start));
            start = i;
            count = 0;
        }
        ++count;
    }
    return out;
}

}  // namespace

std::vector<DetailLine> wrap_details(const Details& details, int cols) {
    std::vector<DetailLine> out;
    const auto field_width = static_cast<std::size_t>(std::max(8, cols - field_indent));
    const auto text_width = static_cast<std::size_t>(std::max(8, cols - 1));
    for (const auto& ln : details.lines) {
        if (ln.kind == DetailLine::Kind::heading || ln.text.empty()) {
            out.push_back(ln);
            continue;
        }
        if (ln.kind == DetailLine::Kind::field) {
            bool first = true;
            for (auto& p : pieces(ln.text, field_width)) {
                out.push_back({DetailLine::Kind::field, first ? ln.label : "", std::move(p)});
                first = false;
            }
            continue;
        }
        // A text line goes on below itself, indented like it plus two.
        auto indent = ln.text.find_first_not_of(' ');
        if (indent == std::string::npos) indent = 0;
        std::string rest = ln.text;
        std::size_t width = text_width;
        while (true) {
            auto parts = pieces(rest, width);
            out.push_back({DetailLine::Kind::text, "", parts.front()});
            if (parts.size() == 1) break;
            rest = std::string(indent + 2, ' ') + rest.substr(parts.front().size());
            if (indent + 2 >= width) break;
        }
    }
    return out;
}

std::size_t help_lines() { return help_rows.size(); }

int list_rows(int screen_lines) { return std::max(0, screen_lines - 4); }
int detail_rows(int screen_lines) { return std::max(0, screen_lines - 4); }

void init_style(const Style& style) {
    if (!style.color) return;
    init_pair(running_pair, COLOR_GREEN, -1);
    init_pair(frozen_pair, COLOR_CYAN, -1);
    init_pair(archived_pair, COLOR_YELLOW, -1);
    init_pair(error_pair, COLOR_RED, -1);
    init_pair(warning_pair, COLOR_YELLOW, -1);
}

void draw(const UiState& st, const JobRunner& job, const Style& style) {
    int lines = LINES;
    int cols = COLS;
    erase();
    if (lines < 6 || cols < 20) {
        put(0, 0, "terminal too small", cols, style);
        refresh();
        return;
    }
    draw_title(st, style, cols);
    switch (st.view) {
    case View::list: draw_list(st, style, lines, cols); break;
    case View::detail: draw_detail(st, style, lines, cols); break;
    case View::help: draw_help(st, style, lines, cols); break;
    }
    draw_bottom(st, job, style, lines, cols);
    refresh();
}

}  // namespace karapace::tui
