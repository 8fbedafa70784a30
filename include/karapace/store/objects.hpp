// Content-addressed objects under `objects/sha256/<hex>`: written from a stream (hashed while
// written into a temp file, fsynced, renamed into place) and re-hashed on every read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/store/layout.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::store {

// One object being written. Nothing is visible under its name until commit(); destroying an
// uncommitted writer removes the temp file.
class ObjectWriter {
public:
    explicit ObjectWriter(const Layout& layout);
    ~ObjectWriter();
    ObjectWriter(ObjectWriter&&) noexcept;
    ObjectWriter(const ObjectWriter&) = delete;
    ObjectWriter& operator=(const ObjectWriter&) = delete;
    ObjectWriter& operator=(ObjectWriter&&) = delete;

    void write(const void* data, std::size_t len);
    void write(std::string_view data) { write(data.data(), data.size()); }
    std::uint64_t size() const noexcept { return size_; }
    // fsync, rename to `objects/sha256/<hex>` (or drop the temp if that object exists), fsync dir.
    Digest commit();

private:
    Layout layout_;
    std::string temp_;
    UniqueFd fd_;
    Sha256 hash_;
    std::uint64_t size_ = 0;
    bool done_ = false;
};

class ObjectStore {
public:
    explicit ObjectStore(Layout layout) : layout_(std::move(layout)) {}

    ObjectWriter writer() const { return ObjectWriter(layout_); }
    Digest put(std::string_view data) const;
    // Streams `fd` to its end into a new object.
    Digest put_fd(int fd) const;

    bool exists(const Digest& d) const;
    // Whole content, verified (for small objects: manifests, configs). Error(not_found) when
    // missing, Error(store) naming the path when the content does not match its name.
    std::string get(const Digest& d) const;
    // Verifies the object, then returns an fd positioned at its start (for large tars).
    UniqueFd open(const Digest& d) const;
    // Re-hashes the object; the actual digest (equal to `d` when intact).
    Digest hash(const Digest& d) const;
    std::uint64_t size(const Digest& d) const;
    // Missing objects are fine.
    void remove(const Digest& d) const;
    // Names of all objects (temp files and stray names excluded), sorted.
    std::vector<Digest> list() const;

    const Layout& layout() const noexcept { return layout_; }

private:
    Layout layout_;
};

}  // namespace karapace::store
