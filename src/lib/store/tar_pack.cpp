// Deterministic layer tars. The output depends only on the tree's names, types, contents, modes,
// numeric owners, link targets and allowed xattrs: entries in byte order of their names within
// each directory, mtimes clamped, no user/group names, no atime/ctime, fixed PAX header names.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <vector>

#include "karapace/store/objects.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "store/archive_lib.hpp"
#include "store/tar_common.hpp"

namespace karapace::store {

namespace {

using Sink = std::function<void(const void*, std::size_t)>;

struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_lib().entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

std::vector<std::string> sorted_names(int dfd, const std::string& shown) {
    int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) throw_errno(Errc::failed, "cannot read directory " + shown);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dup), ::closedir);
    if (!d) {
        ::close(dup);
        throw_errno(Errc::failed, "cannot read directory " + shown);
    }
    ::rewinddir(d.get());
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d.get())) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(std::move(n));
        errno = 0;
    }
    if (errno != 0) throw_errno(Errc::failed, "cannot read directory " + shown);
    std::sort(names.begin(), names.end());
    return names;
}

std::string get_xattr(int fd, const char* name) {
    char buf[16];
    ssize_t n = ::fgetxattr(fd, name, buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

class Packer {
public:
    Packer(const std::string& dir, const Sink& out, const PackOptions& opts)
        : dir_(dir), out_(out), opts_(opts), a_(archive_lib().write_new()) {
        if (a_ == nullptr) throw Error(Errc::failed, "libarchive: out of memory");
        // PAX restricted: plain ustar headers unless a name, size, id or xattr needs PAX records.
        // libarchive names PAX headers "<dir>/PaxHeader/<name>", with no pid or time in them.
        check(archive_lib().write_set_format_pax_restricted(a_), "selecting the tar format");
        check(archive_lib().write_set_bytes_per_block(a_, 10240), "setting the block size");
        check(archive_lib().write_set_bytes_in_last_block(a_, 1), "setting the last block size");
        check(archive_lib().write_open2(a_, this, nullptr, &Packer::write_cb, nullptr, nullptr),
              "starting the tar stream");
    }
    ~Packer() { archive_lib().write_free(a_); }

    PackResult run() {
        UniqueFd root(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_errno(Errc::failed, "cannot open " + dir_ + " to pack it");
        walk(root.get(), "");
        check(archive_lib().write_close(a_), "finishing the tar stream");
        return result_;
    }

private:
    static la_ssize_t write_cb(archive*, void* self, const void* buf, size_t len) {
        auto* p = static_cast<Packer*>(self);
        try {
            p->out_(buf, len);
        } catch (...) {
            p->error_ = std::current_exception();
            return -1;
        }
        p->result_.size += len;
        return static_cast<la_ssize_t>(len);
    }

    void check(int r, const std::string& what) {
        if (r >= ARCHIVE_WARN) return;
        if (error_) std::rethrow_exception(error_);
        const char* msg = archive_lib().error_string(a_);
        throw Error(Errc::failed, "packing " + dir_ + ": " + what + ": " +
                                      (msg != nullptr ? msg : "libarchive error"));
    }

    EntryPtr base_entry(const std::string& path, const struct stat& st) {
        EntryPtr e(archive_lib().entry_new());
        archive_lib().entry_set_pathname(e.get(), path.c_str());
        archive_lib().entry_set_perm(e.get(), st.st_mode & 07777);
        archive_lib().entry_set_uid(e.get(), st.st_uid);
        archive_lib().entry_set_gid(e.get(), st.st_gid);
        archive_lib().entry_set_mtime(e.get(),
                                      std::min<std::int64_t>(st.st_mtime, opts_.mtime_clamp), 0);
        return e;
    }

    void add_xattrs(archive_entry* e, int fd, const std::string& shown) {
        if (!opts_.keep_xattrs) return;
        ssize_t len = ::flistxattr(fd, nullptr, 0);
        if (len < 0) {
            if (errno == ENOTSUP) return;
            throw_errno(Errc::failed, "cannot list the xattrs of " + shown);
        }
        std::string names(static_cast<std::size_t>(len), '\0');
        len = ::flistxattr(fd, names.data(), names.size());
        if (len < 0) throw_errno(Errc::failed, "cannot list the xattrs of " + shown);
        names.resize(static_cast<std::size_t>(len));
        std::vector<std::string> keep;
        for (std::size_t pos = 0; pos < names.size();) {
            std::string n(names.c_str() + pos);
            pos += n.size() + 1;
            if (layer_xattr_allowed(n)) keep.push_back(std::move(n));
        }
        std::sort(keep.begin(), keep.end());
        for (const auto& n : keep) {
            ssize_t vlen = ::fgetxattr(fd, n.c_str(), nullptr, 0);
            if (vlen < 0) throw_errno(Errc::failed, "cannot read xattr " + n + " of " + shown);
            std::string value(static_cast<std::size_t>(vlen), '\0');
            vlen = ::fgetxattr(fd, n.c_str(), value.data(), value.size());
            if (vlen < 0) throw_errno(Errc::failed, "cannot read xattr " + n + " of " + shown);
            archive_lib().entry_xattr_add_entry(e, n.c_str(), value.data(),
                                                static_cast<std::size_t>(vlen));
        }
    }

    void emit(archive_entry* e, const std::string& shown) {
        check(archive_lib().write_header(a_, e), "writing the header of " + shown);
        ++result_.files;
    }

    void emit_whiteout(const std::string& rel) {
        struct stat st {};
        st.st_mode = S_IFREG;
        EntryPtr e = base_entry(rel, st);
        archive_lib().entry_set_filetype(e.get(), AE_IFREG);
        archive_lib().entry_set_size(e.get(), 0);
        emit(e.get(), rel);
    }

    void progress() {
        if (opts_.progress == nullptr) return;
        opts_.progress->advance(result_.size);
        if (opts_.progress->cancelled())
            throw Error(Errc::cancelled, "packing " + dir_ + " was cancelled");
    }

    static std::string join(const std::string& dir, const std::string& name) {
        return dir.empty() ? name : dir + "/" + name;
    }

    void walk(int dfd, const std::string& rel) {
        for (const auto& name : sorted_names(dfd, dir_ + "/" + rel)) {
            std::string path = join(rel, name);
            std::string shown = dir_ + "/" + path;
            struct stat st {};
            if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                throw_errno(Errc::failed, "cannot inspect " + shown);
            progress();
            if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
                emit_whiteout(join(rel, ".wh." + name));
            } else if (S_ISDIR(st.st_mode)) {
                directory(dfd, name, path, shown, st);
            } else if (S_ISREG(st.st_mode)) {
                regular(dfd, name, path, shown, st);
            } else if (S_ISLNK(st.st_mode)) {
                symlink(dfd, name, path, shown, st);
            } else if (S_ISFIFO(st.st_mode)) {
                EntryPtr e = base_entry(path, st);
                archive_lib().entry_set_filetype(e.get(), AE_IFIFO);
                emit(e.get(), shown);
            } else {
                // Device nodes cannot be recreated rootless and sockets are runtime state.
                log::warn("not packing ", shown,
                          ": device nodes and sockets are left out of layers");
            }
        }
    }

    void directory(int dfd, const std::string& name, const std::string& path,
                   const std::string& shown, const struct stat& st) {
        UniqueFd fd(::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw_errno(Errc::failed, "cannot open directory " + shown);
        EntryPtr e = base_entry(path + "/", st);
        archive_lib().entry_set_filetype(e.get(), AE_IFDIR);
        add_xattrs(e.get(), fd.get(), shown);
        emit(e.get(), shown);
        if (get_xattr(fd.get(), "user.overlay.opaque") == "y" ||
            get_xattr(fd.get(), "trusted.overlay.opaque") == "y")
            emit_whiteout(path + "/.wh..wh..opq");
        walk(fd.get(), path);
    }

    void regular(int dfd, const std::string& name, const std::string& path,
                 const std::string& shown, const struct stat& st) {
        UniqueFd fd(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw_errno(Errc::failed, "cannot open " + shown);
        // Newer overlayfs can mark whiteouts with an xattr on an empty file instead of a device.
        if (st.st_size == 0 &&
            (::fgetxattr(fd.get(), "user.overlay.whiteout", nullptr, 0) >= 0 ||
             ::fgetxattr(fd.get(), "trusted.overlay.whiteout", nullptr, 0) >= 0)) {
            std::string parent = path == name ? "" : path.substr(0, path.size() - name.size() - 1);
            emit_whiteout(join(parent, ".wh." + name));
            return;
        }
        EntryPtr e = base_entry(path, st);
        if (st.st_nlink > 1) {
            auto key = std::make_pair(st.st_dev, st.st_ino);
            auto it = links_.find(key);
            if (it != links_.end()) {
                archive_lib().entry_set_filetype(e.get(), AE_IFREG);
                archive_lib().entry_set_hardlink(e.get(), it->second.c_str());
                archive_lib().entry_set_size(e.get(), 0);
                emit(e.get(), shown);
                return;
            }
            links_.emplace(key, path);
        }
        archive_lib().entry_set_filetype(e.get(), AE_IFREG);
        archive_lib().entry_set_size(e.get(), st.st_size);
        add_xattrs(e.get(), fd.get(), shown);
        emit(e.get(), shown);
        std::uint64_t left = static_cast<std::uint64_t>(st.st_size);
        while (left > 0) {
            std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf_.size()));
            ssize_t n = ::read(fd.get(), buf_.data(), want);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_errno(Errc::failed, "cannot read " + shown);
            }
            if (n == 0)
                throw Error(Errc::failed, shown + " shrank while it was being packed",
                            "stop whatever writes to the environment and try again");
            la_ssize_t w = archive_lib().write_data(a_, buf_.data(), static_cast<std::size_t>(n));
            if (w < 0) check(static_cast<int>(w), "writing the data of " + shown);
            left -= static_cast<std::uint64_t>(n);
        }
    }

    void symlink(int dfd, const std::string& name, const std::string& path,
                 const std::string& shown, const struct stat& st) {
        std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlinkat(dfd, name.c_str(), target.data(), target.size());
        if (n < 0) throw_errno(Errc::failed, "cannot read symlink " + shown);
        target.resize(static_cast<std::size_t>(n));
        EntryPtr e = base_entry(path, st);
        archive_lib().entry_set_filetype(e.get(), AE_IFLNK);
        archive_lib().entry_set_symlink(e.get(), target.c_str());
        emit(e.get(), shown);
    }

    std::string dir_;
    const Sink& out_;
    const PackOptions& opts_;
    archive* a_;
    std::exception_ptr error_;
    PackResult result_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
    std::vector<char> buf_ = std::vector<char>(1 << 20);
};

}  // namespace

boost::json::object to_json(const PackResult& r) {
    boost::json::object o;
    o["digest"] = r.digest.str();
    o["size"] = r.size;
    o["files"] = r.files;
    return o;
}

PackResult pack_tree(const std::string& dir, const Sink& out, const PackOptions& opts) {
    Packer p(dir, out, opts);
    return p.run();
}

PackResult pack_layer(const std::string& dir, const ObjectStore& objects, const PackOptions& opts) {
    ObjectWriter w = objects.writer();
    PackResult r = pack_tree(
        dir, [&](const void* data, std::size_t len) { w.write(data, len); }, opts);
    r.digest = w.commit();
    return r;
}

}  // namespace karapace::store
