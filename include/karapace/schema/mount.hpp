// Manifest mounts: the `host:container[:ro]` spec as written, where its host side points at use
// time (`~` is the user's home, relative paths start at the manifest's directory), and the policy
// that decides which host directories an environment may see.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karapace::schema {

struct MountSpec {
    std::string label;      // the key under [mounts]
    std::string host;       // as written: "~/src", "./data", "/srv/data" (never expanded here)
    std::string container;  // absolute path inside the environment
    bool read_only = false;

    // "host:container" or "host:container:ro", the form the manifest and the lock file use.
    std::string spec() const;

    friend bool operator==(const MountSpec&, const MountSpec&) = default;
};

// Parses the value of `[mounts] <label> = "<text>"`. Both sides are trimmed; the container path
// must be absolute, the only options are `ro` and `rw`, and `~user` hosts are refused. Throws
// Error(manifest) naming the label.
MountSpec parse_mount_spec(const std::string& label, std::string_view text);
// The same checks without throwing: an empty string when `text` is valid (then `out` is set),
// otherwise what is wrong with it. Used by the parsers, which add a file position.
std::string check_mount_spec(const std::string& label, std::string_view text, MountSpec& out);

// Where the host side points for this user: `~` and `~/x` expand to `home`, relative paths resolve
// against `manifest_dir`, and the result is lexically normalised (no filesystem access; symlinks
// are resolved by the caller before check_mount_policy). Both directories must be absolute.
std::string resolve_host_path(const MountSpec& mount, const std::string& manifest_dir,
                              const std::string& home);

// `$HOME`, /tmp, /media, /mnt and /run/media.
std::vector<std::string> default_mount_allowlist(const std::string& home);

// True when `path` is `prefix` or lies below it, compared component by component, so that
// /homework is not under /home. Both must be absolute.
bool path_is_under(std::string_view path, std::string_view prefix);

// Throws Error(permission) naming the path and the allowlist when `canonical_host_path` (already
// resolved with realpath) is not under any allowed directory.
void check_mount_policy(const std::string& canonical_host_path,
                        const std::vector<std::string>& allowlist);

}  // namespace karapace::schema
