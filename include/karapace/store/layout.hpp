// Store layout, format 4: where every kind of record lives below the store root, the identifier
// types used as path components, and the `store/version` check done on every open.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "karapace/schema/identity.hpp"
#include "karapace/util/digest.hpp"

namespace karapace::store {

inline constexpr int format_version = 4;

// Environment ids are the schema layer's: 64 lower-case hex characters, validated on
// construction, so always safe as a file name.
using EnvId = schema::EnvId;

class Layout {
public:
    // `root` is made absolute (lexically) against the current directory.
    explicit Layout(const std::string& root);

    const std::string& root() const noexcept { return root_; }
    std::string store_dir() const { return root_ + "/store"; }
    std::string version_file() const { return root_ + "/store/version"; }
    std::string lock_file() const { return root_ + "/store/lock"; }
    // Held (flock) while a new store's directories and version file are made.
    std::string create_lock_file() const { return root_ + "/store/create-lock"; }
    std::string wal_dir() const { return root_ + "/store/wal"; }
    std::string objects_dir() const { return root_ + "/objects/sha256"; }
    std::string object_path(const Digest& d) const { return objects_dir() + "/" + d.hex(); }
    std::string layers_dir() const { return root_ + "/layers"; }
    std::string layer_path(const Digest& d) const { return layers_dir() + "/" + d.hex() + ".json"; }
    std::string metadata_dir() const { return root_ + "/metadata"; }
    std::string metadata_path(const EnvId& id) const {
        return metadata_dir() + "/" + id.str() + ".json";
    }
    // Name index: `names/<name>` is a symlink whose target is the env id holding that name.
    std::string names_dir() const { return root_ + "/names"; }
    std::string name_path(std::string_view name) const {
        return names_dir() + "/" + std::string(name);
    }
    std::string staging_dir() const { return root_ + "/staging"; }
    std::string envs_dir() const { return root_ + "/env"; }
    std::string env_dir(const EnvId& id) const { return envs_dir() + "/" + id.str(); }
    std::string sessions_dir(const EnvId& id) const { return env_dir(id) + "/sessions"; }
    std::string unpacked_layers_dir() const { return root_ + "/layers-unpacked"; }
    std::string unpacked_layer_dir(const Digest& d) const {
        return unpacked_layers_dir() + "/" + d.hex();
    }
    std::string images_dir() const { return root_ + "/images"; }
    std::string image_dir(const Digest& d) const { return images_dir() + "/" + d.hex(); }
    // Present when verify-store found the cached image changed since it was unpacked: the image
    // is not used again until it is fetched anew (which replaces the whole directory).
    std::string image_damage_marker(const Digest& d) const { return image_dir(d) + "/damaged"; }

    // Absolute path of `rel` below the root; throws Error(store) when `rel` is absolute, empty,
    // contains "..", or otherwise would leave the root.
    std::string resolve(std::string_view rel) const;
    // `abs` relative to the root when it lies strictly inside it; throws Error(store) otherwise.
    std::string relative(const std::string& abs) const;

private:
    std::string root_;
};

enum class OpenMode {
    create,    // create the layout and the version file when the root holds no store yet
    existing,  // the store must exist already
};

// Checks `store/version` (creating the layout first with OpenMode::create). A different format
// is Error(store) pointing at `karapace migrate`; a missing store with OpenMode::existing is
// Error(not_found).
void open_layout(const Layout& layout, OpenMode mode);

// Reads `store/version`: the format number, or 0 when the file does not exist.
int read_format_version(const Layout& layout);

}  // namespace karapace::store
