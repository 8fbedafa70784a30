// `karapace new NAME [--template T] [--force]`: writes ./karapace.toml from a template (its
// commented text, unchanged) or, on a terminal, from answers to a few questions. The result is
// parsed before it is written, so `new` never leaves an invalid manifest behind.
#include <sys/stat.h>

#include <sstream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"
#include "cli/prompt.hpp"
#include "cli/suggest.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/schema/manifest.hpp"
#include "karapace/schema/templates.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

constexpr const char* manifest_path = "./karapace.toml";

bool file_exists(const char* path) {
    struct stat st {};
    return ::lstat(path, &st) == 0;
}

// Asks until `accept` takes the answer (it throws Error for a bad one, which is shown).
template <typename Accept>
void ask_until_valid(std::string_view question, std::string_view default_value, Accept accept) {
    for (;;) {
        const std::string answer = ask(question, default_value);
        try {
            accept(answer);
            return;
        } catch (const Error& e) {
            Output(false).error(e);
        }
    }
}

schema::Manifest ask_manifest() {
    schema::Manifest m;
    ask_until_valid(
        "base image (an alias like debian/bookworm, a URL, or bootstrap:debian/bookworm)",
        "debian/bookworm", [&](const std::string& a) {
            (void)image::ImageRef::parse(a);
            m.base_image = a;
        });
    std::istringstream packages(ask("packages (space-separated, empty for none)"));
    for (std::string p; packages >> p;)
        m.packages.push_back(p);
    ask_until_valid("workspace mount HOST:CONTAINER[:ro] (empty for none)", "",
                    [&](const std::string& a) {
                        if (!a.empty())
                            m.mounts.push_back(schema::parse_mount_spec("workspace", a));
                    });
    m.network_isolation =
        confirm("isolate the network (no access outside the environment)?", false);
    return m;
}

}  // namespace

std::vector<std::string> template_names() {
    std::vector<std::string> names;
    for (const auto& t : schema::templates())
        names.push_back(t.name);
    return names;
}

int run_new(const Invocation& inv, Output& out) {
    const std::string name = inv.positional("name");
    // The name is what `build --name` will get: the same rule, before anything is written.
    store::validate_env_name(name);

    const schema::Template* tmpl = nullptr;
    if (inv.flag("template")) {
        tmpl = schema::find_template(inv.value("template"));
        if (tmpl == nullptr)
            throw Error(Errc::usage, "unknown template '" + inv.value("template") + "'",
                        "expected one of: " + join(template_names()));
    }
    const Terminal& term = out.terminal();
    const bool interactive = term.stdin_tty && term.stderr_tty;
    if (tmpl == nullptr && !interactive)
        throw Error(Errc::usage, "no --template given and stdin is not a terminal to ask on",
                    "pass --template, one of: " + join(template_names()));

    if (file_exists(manifest_path) && !inv.flag("force")) {
        if (!interactive)
            throw Error(Errc::conflict,
                        std::string(manifest_path) + " already exists; it was left unchanged",
                        "pass --force to replace it");
        if (!confirm(std::string("overwrite ") + manifest_path + "?", false))
            throw Error(Errc::cancelled, std::string(manifest_path) + " was left unchanged");
    }

    std::string text = "# Environment '" + name + "', written by `karapace new`";
    if (tmpl != nullptr) {
        text += " from the '" + tmpl->name + "' template.\n" + tmpl->text;
    } else {
        text += ".\n" + schema::render_manifest(ask_manifest());
    }
    // Never write something `build` would refuse.
    (void)schema::parse_manifest(text, manifest_path);
    write_file_atomic(manifest_path, text);

    boost::json::object result{
        {"name", name}, {"path", manifest_path}, {"template", nullptr}, {"status", "written"}};
    if (tmpl != nullptr) result["template"] = tmpl->name;
    out.json_result(result);
    out.line(std::string("wrote ") + manifest_path + " for '" + name + "'" +
             (tmpl != nullptr ? " from the '" + tmpl->name + "' template" : ""));
    out.line("next: `karapace pin` to pin its base image, then `karapace build --name " + name +
             "`");
    return 0;
}

}  // namespace karapace::cli
