// Drawing: the title bar, the list, detail and help views, the status line and the line of keys,
// prompt or question below it. Pure output from UiState; nothing here changes state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tui/job.hpp"
#include "tui/ui_state.hpp"

namespace karapace::tui {

struct Style {
    bool color = false;
    bool utf8 = false;
};

// Sets up the colour pairs (when colour is on).
void init_style(const Style& style);
// Redraws the whole screen into curses' buffer and sends the difference to the terminal.
void draw(const UiState& state, const JobRunner& job, const Style& style);

// Rows the list view has for environments on a screen this tall (for paging and scrolling).
int list_rows(int screen_lines);
int detail_rows(int screen_lines);
// The detail lines cut to fit `cols` columns: a long value goes on below its label, a long line
// goes on indented like it.
std::vector<DetailLine> wrap_details(const Details& details, int cols);
// Rows of the help view.
std::size_t help_lines();

// `text` cut (or padded with spaces, when `pad`) to `width` columns; with `utf8` off, every
// character outside ASCII becomes '?'.
std::string fit(std::string_view text, int width, bool utf8, bool pad = false);

}  // namespace karapace::tui
