// `karapace pin [MANIFEST] [--check] [--write-lock]`: pin base.image to a reference that always
// gives the same bytes, or with --check only say whether it already is.
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"
#include "karapace/image/config.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/image/resolve.hpp"
#include "karapace/schema/manifest.hpp"
#include "karapace/schema/pin_rewrite.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::cli {

namespace {

int check_pinned(const std::string& path, Output& out) {
    const schema::Manifest manifest = schema::parse_manifest_file(path);
    const image::ImageRef ref = image::ImageRef::parse(manifest.base_image);
    const bool pinned = ref.is_pinned();
    out.json_result(boost::json::object{
        {"manifest", path}, {"image", manifest.base_image}, {"pinned", pinned}});
    if (pinned) {
        out.line(path + ": base.image '" + manifest.base_image + "' is pinned");
        return 0;
    }
    out.line(path + ": base.image '" + manifest.base_image + "' is not pinned");
    out.hint("`karapace pin " + path +
             "` rewrites it to a reference that always gives the same bytes");
    return 1;
}

// Rewrites base.image in place (comments and layout kept) to its pinned form, then with
// --write-lock builds so karapace.lock names the pinned image too.
int pin_manifest(const Invocation& inv, const std::string& path, Output& out) {
    const std::string text = read_file_limited(path, schema::manifest_size_limit);
    const schema::Manifest manifest = schema::parse_manifest(text, path);
    const image::ImageRef ref = image::ImageRef::parse(manifest.base_image);
    auto progress = make_progress(out);
    std::string pinned = ref.is_pinned() ? ref.str()
                                         : image::pinned_reference(ref, inv.store_root(),
                                                                   image::load_config(), *progress);
    bool changed = pinned != manifest.base_image;
    if (changed) write_file_atomic(path, schema::rewrite_base_image(text, path, pinned));
    boost::json::object result{{"manifest", path}, {"image", pinned}, {"changed", changed}};
    out.line(changed ? "pinned base.image in " + path + " to " + pinned
                     : path + ": base.image is already pinned");
    if (inv.flag("write-lock")) {
        auto engine = make_engine(inv, out);
        core::BuildOptions bo;
        bo.manifest_path = path;
        auto r = engine.build(bo, *progress);
        result["env_id"] = r.env_id;
        result["lock_file"] = r.lock_path;
        out.line("karapace.lock written for environment " + r.short_id);
    }
    out.json_result(result);
    return 0;
}

}  // namespace

int run_pin(const Invocation& inv, Output& out) {
    const std::string path = inv.positional("manifest");
    if (inv.flag("check")) {
        if (inv.flag("write-lock"))
            throw Error(Errc::usage, "--check and --write-lock cannot be combined",
                        "--check only reads the manifest; see `karapace help pin`");
        return check_pinned(path, out);
    }
    return pin_manifest(inv, path, out);
}

}  // namespace karapace::cli
