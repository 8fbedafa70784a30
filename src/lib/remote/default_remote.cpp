// The default remote comes from the user configuration; kept apart from reference.cpp so the
// parsing there stays free of file access.
#include "karapace/remote/reference.hpp"
#include "karapace/schema/config.hpp"
#include "karapace/util/error.hpp"

namespace karapace::remote {

std::optional<Remote> choose_remote(std::string_view flag) {
    if (!flag.empty()) return parse_remote(flag);
    auto config = schema::load_user_config();
    if (!config.remote_url) return std::nullopt;
    try {
        return parse_remote(*config.remote_url);
    } catch (const Error& e) {
        throw Error(Errc::usage,
                    std::string(e.what()) + " (url in the [remote] table of " + config.source + ")",
                    e.hint());
    }
}

}  // namespace karapace::remote
