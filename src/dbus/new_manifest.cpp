#include "new_manifest.hpp"

#include <sys/stat.h>

#include "karapace/schema/manifest.hpp"
#include "karapace/schema/templates.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::dbus {

namespace {

std::string template_names() {
    std::string names;
    for (const auto& t : schema::templates())
        names += (names.empty() ? "" : ", ") + t.name;
    return names;
}

template <typename T>
T option(const std::string& key, const sdbus::Variant& value, const char* type_name) {
    if (!value.containsValueOfType<T>())
        throw Error(Errc::usage,
                    "CreateFromTemplate option '" + key + "' must be of type " + type_name +
                        ", not " + value.peekValueType(),
                    "CreateFromTemplate takes: env_name (s), force (b)");
    return value.get<T>();
}

}  // namespace

TemplateRequest decode_template_request(const std::string& template_name, const std::string& dir,
                                        const ResultMap& options) {
    TemplateRequest r;
    if (schema::find_template(template_name) == nullptr)
        throw Error(Errc::not_found, "there is no template '" + template_name + "'",
                    "ListTemplates lists them: " + template_names());
    r.template_name = template_name;
    if (dir.empty() || dir.front() != '/' || lexically_absolute(dir, "/") != dir)
        throw Error(Errc::usage,
                    "directory '" + dir + "' is not an absolute path without '.' or '..'",
                    "the service resolves nothing against its own working directory: pass the "
                    "project directory in full, e.g. \"$HOME/projects/web\"");
    r.dir = dir;
    for (const auto& [key, value] : options) {
        if (key == "env_name") {
            r.env_name = option<std::string>(key, value, "s");
            if (!r.env_name.empty()) store::validate_env_name(r.env_name);
        } else if (key == "force") {
            r.force = option<bool>(key, value, "b");
        } else {
            throw Error(Errc::usage, "unknown CreateFromTemplate option '" + key + "'",
                        "CreateFromTemplate takes: env_name (s), force (b)");
        }
    }
    return r;
}

std::string write_template_manifest(const TemplateRequest& r) {
    const auto* tmpl = schema::find_template(r.template_name);
    make_dirs(r.dir);
    const std::string path = (r.dir == "/" ? std::string() : r.dir) + "/karapace.toml";
    struct stat st {};
    if (!r.force && ::lstat(path.c_str(), &st) == 0)
        throw Error(Errc::conflict, path + " already exists; it was left unchanged",
                    "pass the option force=true to replace it");
    std::string text = r.env_name.empty()
                           ? "# Written from the '" + tmpl->name + "' template.\n"
                           : "# Environment '" + r.env_name + "', written from the '" + tmpl->name +
                                 "' template.\n";
    text += tmpl->text;
    // Never write something Build would refuse.
    (void)schema::parse_manifest(text, path);
    write_file_atomic(path, text);
    return path;
}

}  // namespace karapace::dbus
