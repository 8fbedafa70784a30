#include "karapace/store/objects.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "store/fsutil.hpp"

namespace karapace::store {

ObjectWriter::ObjectWriter(const Layout& layout) : layout_(layout) {
    std::string tmpl = layout_.objects_dir() + "/.tmp-object-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0)
        throw_errno(Errc::store, "cannot create a temporary object in " + layout_.objects_dir());
    temp_ = buf.data();
    fd_.reset(fd);
}

ObjectWriter::ObjectWriter(ObjectWriter&& o) noexcept
    : layout_(std::move(o.layout_)),
      temp_(std::move(o.temp_)),
      fd_(std::move(o.fd_)),
      hash_(std::move(o.hash_)),
      size_(o.size_),
      done_(o.done_) {
    o.done_ = true;
}

ObjectWriter::~ObjectWriter() {
    if (!done_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void ObjectWriter::write(const void* data, std::size_t len) {
    if (done_) throw Error(Errc::failed, "object writer used after commit");
    hash_.update(data, len);
    write_all(fd_.get(), std::string_view(static_cast<const char*>(data), len), temp_);
    size_ += len;
}

Digest ObjectWriter::commit() {
    if (done_) throw Error(Errc::failed, "object writer committed twice");
    Digest d = hash_.finish();
    fault_point("object-put.written");
    std::string path = layout_.object_path(d);
    if (::access(path.c_str(), F_OK) == 0) {
        // Same content already stored. Refresh its mtime so gc's grace period covers this use.
        ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
        fd_.reset();
        ::unlink(temp_.c_str());
        done_ = true;
        return d;
    }
    if (::fchmod(fd_.get(), 0444) != 0) throw_errno(Errc::store, "cannot set the mode of " + temp_);
    if (::fsync(fd_.get()) != 0) throw_errno(Errc::store, "cannot write object " + temp_);
    fd_.reset();
    fault_point("object-put.before-rename");
    if (::rename(temp_.c_str(), path.c_str()) != 0)
        throw_errno(Errc::store, "cannot move object into place at " + path);
    done_ = true;
    fault_point("object-put.after-rename");
    fsync_dir(layout_.objects_dir());
    return d;
}

Digest ObjectStore::put(std::string_view data) const {
    ObjectWriter w(layout_);
    w.write(data);
    return w.commit();
}

Digest ObjectStore::put_fd(int fd) const {
    ObjectWriter w(layout_);
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(Errc::failed, "cannot read the data to store");
        }
        if (n == 0) break;
        w.write(buf.data(), static_cast<std::size_t>(n));
    }
    return w.commit();
}

bool ObjectStore::exists(const Digest& d) const {
    return ::access(layout_.object_path(d).c_str(), F_OK) == 0;
}

namespace {

[[noreturn]] void missing(const Layout& l, const Digest& d) {
    throw Error(
        Errc::not_found, "object " + d.str() + " is not in the store (" + l.object_path(d) + ")",
        "rebuild the environment that needs it; `karapace verify-store` lists what is missing");
}

void check(const Layout& l, const Digest& want, const Digest& got) {
    if (want != got)
        throw Error(
            Errc::store,
            "corrupt object " + l.object_path(want) + ": its content hashes to " + got.str(),
            "run `karapace verify-store`, then `karapace gc` and rebuild what used it");
}

}  // namespace

Digest ObjectStore::hash(const Digest& d) const {
    UniqueFd fd(::open(layout_.object_path(d).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) missing(layout_, d);
        throw_errno(Errc::store, "cannot open object " + layout_.object_path(d));
    }
    return sha256_fd(fd.get());
}

std::string ObjectStore::get(const Digest& d) const {
    std::string data;
    try {
        data = read_file(layout_.object_path(d));
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) missing(layout_, d);
        throw;
    }
    check(layout_, d, sha256(data));
    return data;
}

UniqueFd ObjectStore::open(const Digest& d) const {
    UniqueFd fd(::open(layout_.object_path(d).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) missing(layout_, d);
        throw_errno(Errc::store, "cannot open object " + layout_.object_path(d));
    }
    check(layout_, d, sha256_fd(fd.get()));
    if (::lseek(fd.get(), 0, SEEK_SET) != 0)
        throw_errno(Errc::store, "cannot rewind object " + layout_.object_path(d));
    return fd;
}

std::uint64_t ObjectStore::size(const Digest& d) const {
    struct stat st {};
    if (::stat(layout_.object_path(d).c_str(), &st) != 0) {
        if (errno == ENOENT) missing(layout_, d);
        throw_errno(Errc::store, "cannot inspect object " + layout_.object_path(d));
    }
    return static_cast<std::uint64_t>(st.st_size);
}

void ObjectStore::remove(const Digest& d) const {
    if (::unlink(layout_.object_path(d).c_str()) != 0 && errno != ENOENT)
        throw_errno(Errc::store, "cannot remove object " + layout_.object_path(d));
}

std::vector<Digest> ObjectStore::list() const {
    std::vector<Digest> out;
    for (const auto& name : list_dir(layout_.objects_dir()))
        if (Digest::is_hex(name)) out.push_back(Digest::from_hex(name));
    return out;
}

}  // namespace karapace::store
