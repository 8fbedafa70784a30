// `karapace pin [MANIFEST] [--check] [--write-lock]`. Only --check is available in this build:
// it reads the manifest and says whether base.image always names the same bytes.
#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/schema/manifest.hpp"
#include "karapace/util/error.hpp"

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

}  // namespace

int run_pin(const Invocation& inv, Output& out) {
    const std::string path = inv.positional("manifest");
    if (inv.flag("check")) {
        if (inv.flag("write-lock"))
            throw Error(Errc::usage, "--check and --write-lock cannot be combined",
                        "--check only reads the manifest; see `karapace help pin`");
        return check_pinned(path, out);
    }
    return run_unavailable(inv, out);
}

}  // namespace karapace::cli
