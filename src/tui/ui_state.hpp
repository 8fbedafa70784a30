// Everything the screen shows, kept by the App and drawn by the views: which view is open, the
// list, the detail lines, the prompt or question at the bottom, and the status line.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "tui/details.hpp"
#include "tui/list_model.hpp"

namespace karapace::tui {

enum class View { list, detail, help };

// A line of text typed at the bottom of the screen, and what Enter does with it.
struct Prompt {
    std::string label;  // "search: ", "rename web to: "
    std::string text;
    bool live = false;  // the search: every change applies at once
    std::function<void(const std::string&)> submit;
};

// A y/n question; any key but y cancels.
struct Question {
    std::string text;  // "destroy environment 'web'? (y/n)"
    std::function<void()> yes;
};

struct StatusLine {
    enum class Kind { info, error, warning } kind = Kind::info;
    std::string text;
    std::string hint;  // an error's hint, shown on the line below until the next key
};

struct UiState {
    std::string store_root;
    View view = View::list;
    bool help_from_detail = false;  // where q in the help view goes back to
    ListModel list;
    std::size_t list_top = 0;  // first visible row of the list
    std::optional<Details> details;
    std::string detail_env;  // env_id the detail view is about
    std::size_t detail_top = 0;
    std::size_t help_top = 0;
    std::optional<Prompt> prompt;
    std::optional<Question> question;
    StatusLine status;
    unsigned frame = 0;  // spinner frame
};

}  // namespace karapace::tui
