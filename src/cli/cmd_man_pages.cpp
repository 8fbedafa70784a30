// `karapace man-pages [DIR]`: karapace.1 and karapace-<command>.1 in roff.
#include "cli/commands.hpp"
#include "cli/manpages.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"

namespace karapace::cli {

int run_man_pages(const Invocation& inv, Output& out) {
    const std::string dir = inv.positional("dir");
    const std::vector<std::string> pages = write_man_pages(dir);
    boost::json::array names;
    for (const auto& p : pages)
        names.emplace_back(p);
    out.json_result(boost::json::object{{"dir", dir}, {"pages", std::move(names)}});
    out.line("wrote " + std::to_string(pages.size()) + " man pages to " + dir);
    return 0;
}

}  // namespace karapace::cli
