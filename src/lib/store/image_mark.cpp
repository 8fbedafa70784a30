#include "karapace/store/image_mark.hpp"

#include <boost/json.hpp>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/time.hpp"
#include "store/fsutil.hpp"

namespace karapace::store {

std::optional<std::string> image_damage(const Layout& layout, const Digest& image) {
    const std::string mark = layout.image_damage_marker(image);
    if (!lstat_path(mark)) return std::nullopt;
    try {
        auto v = json::parse(read_file_limited(mark, 64 * 1024), mark);
        return json::get_string(v.as_object(), "reason", mark);
    } catch (const std::exception&) {
        return std::string("an unreadable mark");
    }
}

void mark_image_damaged(const Layout& layout, const Digest& image, const std::string& reason) {
    boost::json::object o;
    o["reason"] = reason;
    o["detected"] = now_rfc3339();
    write_file_atomic(layout.image_damage_marker(image), json::pretty(o));
}

}  // namespace karapace::store
