#include "karapace/store/store.hpp"

namespace karapace::store {

Store::Store(Layout layout, Remover remover)
    : layout_(std::move(layout)),
      remover_(std::move(remover)),
      objects_(layout_),
      layers_(layout_),
      metadata_(layout_),
      wal_(layout_, remover_) {}

Store Store::open(const std::string& root, OpenMode mode, Remover remover) {
    Layout layout(root);
    open_layout(layout, mode);
    return Store(std::move(layout), std::move(remover));
}

}  // namespace karapace::store
