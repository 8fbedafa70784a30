// The store as one value: its layout and the record stores over it, opened with the version check.
#pragma once

#include <string>

#include "karapace/store/layers.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/store/objects.hpp"
#include "karapace/store/remove.hpp"
#include "karapace/store/wal.hpp"

namespace karapace::store {

class Store {
public:
    // Checks (or with OpenMode::create, initialises) the layout; see open_layout().
    static Store open(const std::string& root, OpenMode mode = OpenMode::create,
                      Remover remover = default_remover());

    const Layout& layout() const noexcept { return layout_; }
    const ObjectStore& objects() const noexcept { return objects_; }
    const LayerStore& layers() const noexcept { return layers_; }
    const MetadataStore& metadata() const noexcept { return metadata_; }
    const Wal& wal() const noexcept { return wal_; }
    const Remover& remover() const noexcept { return remover_; }

private:
    Store(Layout layout, Remover remover);
    Layout layout_;
    Remover remover_;
    ObjectStore objects_;
    LayerStore layers_;
    MetadataStore metadata_;
    Wal wal_;
};

}  // namespace karapace::store
