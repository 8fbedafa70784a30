// Hardened tar extraction. Every entry is resolved relative to a directory fd of the destination
// with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no entry can reach outside the tree or
// through a symlink the archive planted earlier, whatever the order of entries.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "karapace/store/objects.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "store/archive_lib.hpp"
#include "store/decompress.hpp"
#include "store/file_writers.hpp"
#include "store/tar_common.hpp"

namespace karapace::store {

namespace {

constexpr std::string_view wh_prefix = ".wh.";
constexpr std::string_view wh_opaque = ".wh..wh..opq";

struct ArchiveReader {
    archive* a = archive_lib().read_new();
    ~ArchiveReader() { archive_lib().read_free(a); }
};

int sys_openat2(int dirfd, const std::string& path, std::uint64_t flags) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long r = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
        if (r >= 0) return static_cast<int>(r);
        if (errno == EAGAIN || errno == EINTR) continue;
        return -1;
    }
}

// Removes `name` below `dirfd` and everything beneath it, never following a symlink. False when
// there was nothing to remove; errno is set on failure.
bool remove_at(int dirfd, const char* name) {
    struct stat st {};
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return false;
        throw_errno(Errc::failed, std::string("cannot inspect ") + name);
    }
    if (S_ISDIR(st.st_mode)) {
        int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) throw_errno(Errc::failed, std::string("cannot open ") + name);
        DIR* d = ::fdopendir(fd);
        if (d == nullptr) {
            ::close(fd);
            throw_errno(Errc::failed, std::string("cannot read ") + name);
        }
        std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
        std::vector<std::string> children;
        while (auto* e = ::readdir(d)) {
            std::string_view n = e->d_name;
            if (n != "." && n != "..") children.emplace_back(n);
        }
        for (const auto& child : children)
            remove_at(::dirfd(d), child.c_str());
        if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
            throw_errno(Errc::failed, std::string("cannot remove directory ") + name);
        return true;
    }
    if (::unlinkat(dirfd, name, 0) != 0)
        throw_errno(Errc::failed, std::string("cannot remove ") + name);
    return true;
}

struct DeferredDir {
    std::string path;  // relative to the root, "." for the root itself
    mode_t mode;
    timespec mtime;
};

class Extractor {
public:
    Extractor(const std::string& dest, const UnpackOptions& opts) : dest_(dest), opts_(opts) {
        make_dirs(dest);
        root_.reset(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root_) throw_errno(Errc::failed, "cannot open the extraction directory " + dest);
        fresh_ = is_empty_dir(root_.get());
    }

    UnpackStats run(archive* a) {
        archive_entry* e = nullptr;
        for (;;) {
            int r = archive_lib().read_next_header(a, &e);
            if (r == ARCHIVE_EOF) break;
            if (r < ARCHIVE_WARN) fail_archive(a, "cannot read the next tar header");
            check_cancel();
            extract(a, e);
            ++stats_.entries;
        }
        writers_.finish();
        finish_dirs();
        return stats_;
    }

private:
    [[noreturn]] void fail(const std::string& entry, const std::string& why) const {
        std::string shown = entry.size() > 200 ? entry.substr(0, 200) + "..." : entry;
        throw Error(Errc::failed, "refusing tar entry '" + shown + "': " + why,
                    "the archive is damaged or hostile; nothing outside " + dest_ + " was written");
    }
    [[noreturn]] void fail_errno(const std::string& entry, const std::string& what) const {
        throw_errno(Errc::failed, "cannot extract tar entry '" + entry + "' (" + what + ")");
    }
    [[noreturn]] void fail_archive(archive* a, const std::string& what) const {
        const char* msg = archive_lib().error_string(a);
        throw Error(Errc::failed, what + ": " + (msg != nullptr ? msg : "unknown libarchive error"),
                    "the archive is corrupt or truncated");
    }
    void check_cancel() const {
        if (opts_.progress != nullptr && opts_.progress->cancelled())
            throw Error(Errc::cancelled, "extraction into " + dest_ + " was cancelled");
    }

    static bool is_empty_dir(int dirfd) {
        int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return false;
        std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), ::closedir);
        if (!d) {
            ::close(fd);
            return false;
        }
        while (auto* e = ::readdir(d.get())) {
            std::string_view n = e->d_name;
            if (n != "." && n != "..") return false;
        }
        return true;
    }

    // Waits until every file handed to the writers exists, so that the entry at hand sees the tree
    // exactly as an extraction on one thread would have left it.
    void wait_for_writers() {
        if (handed_.empty()) return;
        writers_.finish();
        handed_.clear();
    }

    // Whether `rel` or one of its ancestors is a file a writer may not have created yet.
    bool handed_on_the_way(std::string rel) const {
        if (handed_.empty()) return false;
        while (!rel.empty()) {
            if (handed_.contains(rel)) return true;
            auto slash = rel.rfind('/');
            rel.resize(slash == std::string::npos ? 0 : slash);
        }
        return false;
    }

    // Opens (creating if needed) the directory `rel` below the root, refusing symlinks on the way.
    int parent_fd(const std::string& entry, const std::string& rel) {
        if (rel == cached_parent_ && cached_fd_) return cached_fd_->get();
        if (handed_on_the_way(rel)) wait_for_writers();
        UniqueFd fd(rel.empty() ? ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)
                                : sys_openat2(root_.get(), rel, O_PATH | O_DIRECTORY));
        if (!fd && errno == ENOENT) {
            create_parents(entry, rel);
            fd.reset(sys_openat2(root_.get(), rel, O_PATH | O_DIRECTORY));
        }
        if (!fd) {
            if (errno == ELOOP) fail(entry, "its path goes through a symbolic link");
            if (errno == EXDEV) fail(entry, "its path leaves the destination");
            if (errno == ENOTDIR) fail(entry, "a parent is not a directory");
            fail_errno(entry, "opening its parent directory");
        }
        cached_parent_ = rel;
        cached_fd_ = std::make_shared<const UniqueFd>(std::move(fd));
        return cached_fd_->get();
    }

    void create_parents(const std::string& entry, const std::string& rel) {
        std::string sofar;
        std::size_t pos = 0;
        while (pos <= rel.size()) {
            auto slash = rel.find('/', pos);
            if (slash == std::string::npos) slash = rel.size();
            std::string parent = sofar;
            std::string name = rel.substr(pos, slash - pos);
            sofar = sofar.empty() ? name : sofar + "/" + name;
            UniqueFd pfd(parent.empty() ? ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)
                                        : sys_openat2(root_.get(), parent, O_PATH | O_DIRECTORY));
            if (!pfd) {
                if (errno == ELOOP) fail(entry, "its path goes through a symbolic link");
                fail_errno(entry, "opening " + parent);
            }
            if (::mkdirat(pfd.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
                fail_errno(entry, "creating directory " + sofar);
            if (fresh_) seen_.insert(sofar);
            pos = slash + 1;
        }
    }

    void extract(archive* a, archive_entry* e) {
        const char* raw = archive_lib().entry_pathname(e);
        std::string entry = raw != nullptr ? raw : "";
        auto path = normalise_entry_path(entry);
        if (!path.ok) fail(entry, path.error);

        const char* hardlink = archive_lib().entry_hardlink(e);
        mode_t type = archive_lib().entry_filetype(e);
        if (path.rel.empty()) {  // the archive's "./" entry describes the destination itself
            if (type == AE_IFDIR) root_entry(e);
            return;
        }
        std::string parent = path.parent();
        std::string name = path.name();
        // In a directory that was empty, a path the archive names for the first time cannot be
        // taken: a regular file there is created by a writer thread. Anything that may depend on
        // files not yet created (a name seen before, which may replace a directory they go into;
        // a path below one of them, see parent_fd; a hard link; whiteouts, which list or remove
        // names) first waits for the writers.
        const bool first = fresh_ && seen_.insert(path.rel).second;
        if (!handed_.empty() && (!first || hardlink != nullptr || name.starts_with(wh_prefix) ||
                                 type == AE_IFCHR || type == AE_IFBLK))
            wait_for_writers();
        const bool applying = opts_.whiteouts == WhiteoutFormat::apply;
        if (applying && !name.starts_with(wh_prefix)) remember_brought(path.rel);
        // An entry that replaces the cached parent or one of its ancestors invalidates the cache.
        if (cached_parent_ == path.rel || cached_parent_.starts_with(path.rel + "/")) {
            cached_parent_.clear();
            cached_fd_.reset();
        }

        if (name.starts_with(wh_prefix)) return whiteout(entry, parent, name);
        // Overlay's own whiteout form (char 0/0); OCI layers use `.wh.` files only.
        if (type == AE_IFCHR && archive_lib().entry_rdev(e) == 0 && hardlink == nullptr &&
            !applying) {
            if (!opts_.allow_whiteouts) fail(entry, "whiteouts are not allowed in this archive");
            return make_whiteout(entry, parent, name);
        }

        int pfd = parent_fd(entry, parent);
        if (hardlink != nullptr) return link(entry, pfd, name, hardlink);
        switch (type) {
        case AE_IFDIR: return directory(e, entry, pfd, path.rel, name);
        case AE_IFREG: return regular(a, e, entry, pfd, first ? &path.rel : nullptr, name);
        case AE_IFLNK: return symlink(e, entry, pfd, name);
        case AE_IFIFO: return fifo(e, entry, pfd, name);
        case AE_IFCHR:
        case AE_IFBLK:
            if (opts_.skip_devices) {
                ++stats_.skipped_devices;
                return;
            }
            fail(entry, "device nodes are not allowed");
        case AE_IFSOCK: log::debug("skipping socket ", entry); return;
        default: fail(entry, "unknown entry type");
        }
    }

    // Removes whatever non-directory sits at `name` so the entry can take its place.
    void clear_slot(const std::string& entry, int pfd, const std::string& name) {
        struct stat st {};
        if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return;
            fail_errno(entry, "inspecting the existing file");
        }
        if (S_ISDIR(st.st_mode)) {
            if (::unlinkat(pfd, name.c_str(), AT_REMOVEDIR) == 0) return;
            // A layer may replace a lower layer's directory with a file.
            if (opts_.whiteouts == WhiteoutFormat::apply) {
                remove_at(pfd, name.c_str());
                return;
            }
            fail(entry, "it would replace a non-empty directory");
        }
        if (::unlinkat(pfd, name.c_str(), 0) != 0) fail_errno(entry, "replacing the existing file");
    }

    void root_entry(archive_entry* e) {
        if (opts_.keep_ownership &&
            ::fchownat(root_.get(), "", static_cast<uid_t>(archive_lib().entry_uid(e)),
                       static_cast<gid_t>(archive_lib().entry_gid(e)), AT_EMPTY_PATH) != 0)
            fail_errno("./", "setting its owner");
        dirs_.push_back({".", archive_lib().entry_perm(e), mtime_of(e)});
    }

    void directory(archive_entry* e, const std::string& entry, int pfd, const std::string& rel,
                   const std::string& name) {
        if (::mkdirat(pfd, name.c_str(), 0700) != 0) {
            if (errno != EEXIST) fail_errno(entry, "creating the directory");
            struct stat st {};
            if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                fail_errno(entry, "inspecting the existing directory");
            if (!S_ISDIR(st.st_mode)) {
                clear_slot(entry, pfd, name);
                if (::mkdirat(pfd, name.c_str(), 0700) != 0)
                    fail_errno(entry, "creating the directory");
            }
        }
        UniqueFd fd(::openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) fail_errno(entry, "opening the directory");
        owner(fd.get(), e, entry);
        xattrs(fd.get(), e, entry);
        dirs_.push_back({rel, archive_lib().entry_perm(e), mtime_of(e)});
    }

    // Its data, owner, mode, xattrs and mtime are set on a writer thread. A file named for the
    // first time (`first_rel`, the path) is created there too; any other is created here, in
    // archive order, replacing what sits at its name.
    void regular(archive* a, archive_entry* e, const std::string& entry, int pfd,
                 const std::string* first_rel, const std::string& name) {
        FileAttributes attrs;
        attrs.perm = archive_lib().entry_perm(e);
        if (opts_.keep_ownership)
            attrs.owner.emplace(static_cast<uid_t>(archive_lib().entry_uid(e)),
                                static_cast<gid_t>(archive_lib().entry_gid(e)));
        attrs.xattrs = allowed_xattrs(e);
        attrs.mtime = mtime_of(e);
        attrs.size = archive_lib().entry_size(e);
        if (first_rel != nullptr) {
            writers_.create(cached_fd_, name, entry, std::move(attrs));
            handed_.insert(*first_rel);
        } else {
            constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
            UniqueFd fd(::openat(pfd, name.c_str(), flags, 0600));
            if (!fd && errno == EEXIST) {  // only where something already sits at the name
                clear_slot(entry, pfd, name);
                fd.reset(::openat(pfd, name.c_str(), flags, 0600));
            }
            if (!fd) fail_errno(entry, "creating the file");
            writers_.open(std::move(fd), entry, std::move(attrs));
        }
        const void* buf = nullptr;
        std::size_t size = 0;
        la_int64_t offset = 0;
        for (;;) {
            int r = archive_lib().read_data_block(a, &buf, &size, &offset);
            if (r == ARCHIVE_EOF) break;
            if (r < ARCHIVE_WARN)
                fail_archive(a, "cannot read the data of tar entry '" + entry + "'");
            stats_.bytes += size;
            if (opts_.max_bytes != 0 && stats_.bytes > opts_.max_bytes)
                throw Error(Errc::failed,
                            log::cat("archive is larger than the limit of ", opts_.max_bytes,
                                     " bytes (at entry '", entry, "')"),
                            "the archive is not what it claims to be");
            writers_.data(offset, buf, size);
            if (opts_.progress != nullptr) {
                opts_.progress->advance(stats_.bytes);
                check_cancel();
            }
        }
        writers_.close();
    }

    void symlink(archive_entry* e, const std::string& entry, int pfd, const std::string& name) {
        const char* target = archive_lib().entry_symlink(e);
        if (target == nullptr) fail(entry, "symbolic link without a target");
        clear_slot(entry, pfd, name);
        if (::symlinkat(target, pfd, name.c_str()) != 0) fail_errno(entry, "creating the symlink");
        if (opts_.keep_ownership &&
            ::fchownat(pfd, name.c_str(), static_cast<uid_t>(archive_lib().entry_uid(e)),
                       static_cast<gid_t>(archive_lib().entry_gid(e)), AT_SYMLINK_NOFOLLOW) != 0)
            fail_errno(entry, "setting its owner");
        timespec times[2] = {mtime_of(e), mtime_of(e)};
        if (::utimensat(pfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            fail_errno(entry, "setting its mtime");
    }

    void fifo(archive_entry* e, const std::string& entry, int pfd, const std::string& name) {
        clear_slot(entry, pfd, name);
        if (::mkfifoat(pfd, name.c_str(), 0600) != 0) fail_errno(entry, "creating the fifo");
        if (opts_.keep_ownership &&
            ::fchownat(pfd, name.c_str(), static_cast<uid_t>(archive_lib().entry_uid(e)),
                       static_cast<gid_t>(archive_lib().entry_gid(e)), AT_SYMLINK_NOFOLLOW) != 0)
            fail_errno(entry, "setting its owner");
        if (::fchmodat(pfd, name.c_str(), archive_lib().entry_perm(e), 0) != 0)
            fail_errno(entry, "setting its mode");
    }

    void link(const std::string& entry, int pfd, const std::string& name, const char* target) {
        auto tpath = normalise_entry_path(target);
        if (!tpath.ok || tpath.rel.empty())
            fail(entry, "hard link target '" + std::string(target) + "' is outside the archive");
        UniqueFd tparent(tpath.parent().empty()
                             ? ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)
                             : sys_openat2(root_.get(), tpath.parent(), O_PATH | O_DIRECTORY));
        if (!tparent) fail(entry, "hard link target '" + tpath.rel + "' cannot be reached");
        struct stat st {};
        if (::fstatat(tparent.get(), tpath.name().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            fail(entry, "hard link target '" + tpath.rel + "' does not exist in the archive");
        if (S_ISDIR(st.st_mode)) fail(entry, "hard link to a directory");
        clear_slot(entry, pfd, name);
        if (::linkat(tparent.get(), tpath.name().c_str(), pfd, name.c_str(), 0) != 0)
            fail_errno(entry, "creating the hard link");
    }

    void whiteout(const std::string& entry, const std::string& parent, const std::string& name) {
        if (!opts_.allow_whiteouts) fail(entry, "whiteouts are not allowed in this archive");
        if (opts_.whiteouts == WhiteoutFormat::apply) return apply_whiteout(entry, parent, name);
        if (opts_.whiteouts == WhiteoutFormat::oci) {
            int pfd = parent_fd(entry, parent);
            clear_slot(entry, pfd, name);
            UniqueFd fd(::openat(pfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0000));
            if (!fd) fail_errno(entry, "creating the whiteout file");
            return;
        }
        if (name == wh_opaque) {
            parent_fd(entry, parent);  // creates and checks the directory
            UniqueFd dfd(parent.empty()
                             ? ::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                             : sys_openat2(root_.get(), parent, O_RDONLY | O_DIRECTORY));
            if (!dfd) fail_errno(entry, "opening the opaque directory");
            if (::fsetxattr(dfd.get(), opts_.opaque_xattr.c_str(), "y", 1, 0) != 0)
                fail_errno(entry, "setting " + opts_.opaque_xattr);
            return;
        }
        std::string target = name.substr(wh_prefix.size());
        if (target.empty() || target == "." || target == "..") fail(entry, "invalid whiteout name");
        make_whiteout(entry, parent, target);
    }

    void make_whiteout(const std::string& entry, const std::string& parent,
                       const std::string& name) {
        int pfd = parent_fd(entry, parent);
        clear_slot(entry, pfd, name);
        if (opts_.whiteouts == WhiteoutFormat::oci) {
            std::string file = std::string(wh_prefix) + name;
            UniqueFd fd(::openat(pfd, file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0000));
            if (!fd) fail_errno(entry, "creating the whiteout file");
            return;
        }
        if (::mknodat(pfd, name.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0)
            fail_errno(entry,
                       "creating the whiteout device (Linux < 5.8 allows it only with CAP_MKNOD)");
    }

    // Paths this layer brings, with their ancestors: an opaque marker keeps them.
    void remember_brought(std::string rel) {
        while (!rel.empty() && brought_.insert(rel).second) {
            auto slash = rel.rfind('/');
            rel = slash == std::string::npos ? std::string() : rel.substr(0, slash);
        }
    }

    // Flattening: `.wh.NAME` removes NAME as earlier layers left it; `.wh..wh..opq` removes every
    // entry of its directory that this layer does not bring. Both act only below the root: the
    // parent is opened with RESOLVE_BENEATH and no symlinks, and nothing is created for them.
    void apply_whiteout(const std::string& entry, const std::string& parent,
                        const std::string& name) {
        std::string target = name == wh_opaque ? std::string() : name.substr(wh_prefix.size());
        if (name != wh_opaque && (target.empty() || target == "." || target == ".." ||
                                  target.find('/') != std::string::npos))
            fail(entry, "invalid whiteout name");
        UniqueFd pfd(parent.empty() ? ::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                    : sys_openat2(root_.get(), parent, O_RDONLY | O_DIRECTORY));
        if (!pfd) {
            if (errno == ENOENT) return;  // nothing below to hide
            if (errno == ELOOP) fail(entry, "its path goes through a symbolic link");
            if (errno == EXDEV) fail(entry, "its path leaves the destination");
            if (errno == ENOTDIR) fail(entry, "a parent is not a directory");
            fail_errno(entry, "opening its directory");
        }
        cached_parent_.clear();
        cached_fd_.reset();
        auto rel_of = [&](const std::string& n) { return parent.empty() ? n : parent + "/" + n; };
        try {
            if (!target.empty()) {
                if (!brought_.contains(rel_of(target))) remove_at(pfd.get(), target.c_str());
                return;
            }
            for (const auto& child : list_children(pfd.get(), entry))
                if (!brought_.contains(rel_of(child))) remove_at(pfd.get(), child.c_str());
        } catch (const Error& e) {
            fail(entry, std::string("applying the whiteout: ") + e.what());
        }
    }

    std::vector<std::string> list_children(int dirfd, const std::string& entry) const {
        int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) fail_errno(entry, "opening the opaque directory");
        DIR* d = ::fdopendir(fd);
        if (d == nullptr) {
            ::close(fd);
            fail_errno(entry, "reading the opaque directory");
        }
        std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
        std::vector<std::string> names;
        while (auto* e = ::readdir(d)) {
            std::string_view n = e->d_name;
            if (n != "." && n != "..") names.emplace_back(n);
        }
        return names;
    }

    void owner(int fd, archive_entry* e, const std::string& entry) {
        if (!opts_.keep_ownership) return;
        if (::fchown(fd, static_cast<uid_t>(archive_lib().entry_uid(e)),
                     static_cast<gid_t>(archive_lib().entry_gid(e))) != 0)
            fail_errno(entry, log::cat("setting its owner to ", archive_lib().entry_uid(e), ":",
                                       archive_lib().entry_gid(e)));
    }

    void xattrs(int fd, archive_entry* e, const std::string& entry) {
        for (const auto& [name, value] : allowed_xattrs(e))
            if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0)
                fail_errno(entry, "setting xattr " + name);
    }

    std::vector<std::pair<std::string, std::string>> allowed_xattrs(archive_entry* e) const {
        std::vector<std::pair<std::string, std::string>> out;
        if (!opts_.keep_xattrs) return out;
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        archive_lib().entry_xattr_reset(e);
        while (archive_lib().entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
            if (name != nullptr && layer_xattr_allowed(name))
                out.emplace_back(name, std::string(static_cast<const char*>(value), size));
        return out;
    }

    static timespec mtime_of(archive_entry* e) {
        timespec t{};
        t.tv_sec = archive_lib().entry_mtime(e);
        t.tv_nsec = archive_lib().entry_mtime_is_set(e) ? archive_lib().entry_mtime_nsec(e) : 0;
        return t;
    }

    // Directory modes and mtimes go last, deepest first: a read-only directory must not stop its
    // own children from being written, and writing children would change its mtime.
    void finish_dirs() {
        cached_fd_.reset();
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            UniqueFd fd(it->path == "."
                            ? ::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                            : sys_openat2(root_.get(), it->path, O_RDONLY | O_DIRECTORY));
            // Flattening: a later entry of the same layer may have replaced it.
            if (!fd && errno == ENOENT && opts_.whiteouts == WhiteoutFormat::apply) continue;
            if (!fd) fail_errno(it->path, "reopening the directory");
            if (::fchmod(fd.get(), it->mode) != 0) fail_errno(it->path, "setting its mode");
            timespec times[2] = {it->mtime, it->mtime};
            if (::futimens(fd.get(), times) != 0) fail_errno(it->path, "setting its mtime");
        }
    }

    std::string dest_;
    const UnpackOptions& opts_;
    UniqueFd root_;
    std::string cached_parent_;
    std::shared_ptr<const UniqueFd> cached_fd_;  // shared with writers creating files in it
    bool fresh_ = false;                         // the destination was empty
    std::unordered_set<std::string> seen_;       // paths named or created so far, when fresh_
    std::unordered_set<std::string> handed_;     // files writers create, until wait_for_writers()
    std::vector<DeferredDir> dirs_;
    std::unordered_set<std::string> brought_;
    UnpackStats stats_;
    // Last: destroyed first, so no writer thread outlives what it was handed.
    FileWriters writers_{FileWriters::default_threads(), opts_.written};
};

}  // namespace

namespace {

// Feeds libarchive from an fd, hashing every byte on the way, so a layer is verified in the same
// pass that extracts it.
struct HashingSource {
    int fd;
    Sha256 hash;
    std::vector<char> buf = std::vector<char>(std::size_t{256} * 1024);

    static la_ssize_t read_cb(archive* a, void* self, const void** out) {
        auto* s = static_cast<HashingSource*>(self);
        for (;;) {
            ssize_t n = ::read(s->fd, s->buf.data(), s->buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                archive_lib().set_error(a, errno, "read error");
                return -1;
            }
            s->hash.update(s->buf.data(), static_cast<std::size_t>(n));
            *out = s->buf.data();
            return n;
        }
    }

    // libarchive stops at the end-of-archive blocks; whatever follows still counts.
    Digest finish() {
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno(Errc::store, "cannot read the layer");
            if (n == 0) break;
            hash.update(buf.data(), static_cast<std::size_t>(n));
        }
        return hash.finish();
    }
};

void open_archive(ArchiveReader& r, int fd, HashingSource* source) {
    if (r.a == nullptr) throw Error(Errc::failed, "libarchive: out of memory");
    archive_lib().read_support_filter_all(r.a);
    archive_lib().read_support_format_tar(r.a);
    int rc = source != nullptr
                 ? archive_lib().read_open(r.a, source, nullptr, &HashingSource::read_cb, nullptr)
                 : archive_lib().read_open_fd(r.a, fd, std::size_t{256} * 1024);
    if (rc != ARCHIVE_OK) {
        const char* msg = archive_lib().error_string(r.a);
        throw Error(Errc::failed,
                    std::string("cannot read the archive: ") + (msg != nullptr ? msg : "unknown"),
                    "is it a tar file (plain, gzip, xz, zstd or bzip2)?");
    }
}

}  // namespace

boost::json::object to_json(const UnpackStats& s) {
    boost::json::object o;
    o["entries"] = s.entries;
    o["bytes"] = s.bytes;
    return o;
}

UnpackStats unpack_tar_fd(int fd, const std::string& dest_dir, const UnpackOptions& opts) {
    // A compressed tarball is decoded on a read-ahead thread (xz on several when it has several
    // blocks) while this one creates the files.
    Filler decode;
    switch (sniff_compression(fd)) {
    case Compression::xz: decode = xz_decoder(fd); break;
    case Compression::gzip:
    case Compression::zstd:
    case Compression::bzip2: decode = archive_decoder(fd); break;
    case Compression::other: break;
    }
    if (decode) {
        ReadAhead ahead(std::move(decode));
        TarSource source = [&](const void** data) { return ahead.next(data); };
        auto stats = unpack_tar_source(source, dest_dir, opts);
        // The tar reader stops at the end-of-archive blocks; decoding the rest checks the
        // compressed stream's own checksum, so damage in the last blocks is not passed over.
        const void* rest = nullptr;
        while (source(&rest) > 0) {}
        return stats;
    }
    ArchiveReader r;
    open_archive(r, fd, nullptr);
    Extractor x(dest_dir, opts);
    return x.run(r.a);
}

namespace {

// Feeds libarchive from a TarSource. An exception cannot cross libarchive's C frames: it is kept
// and rethrown once libarchive has returned.
struct CallbackSource {
    const TarSource* source;
    std::exception_ptr error;

    static la_ssize_t read_cb(archive* a, void* self, const void** out) {
        auto* s = static_cast<CallbackSource*>(self);
        try {
            return static_cast<la_ssize_t>((*s->source)(out));
        } catch (...) {
            s->error = std::current_exception();
            archive_lib().set_error(a, EIO, "the layer source failed");
            return -1;
        }
    }
};

}  // namespace

UnpackStats unpack_tar_source(const TarSource& source, const std::string& dest_dir,
                              const UnpackOptions& opts) {
    CallbackSource cs{&source, nullptr};
    ArchiveReader r;
    if (r.a == nullptr) throw Error(Errc::failed, "libarchive: out of memory");
    archive_lib().read_support_filter_all(r.a);
    archive_lib().read_support_format_tar(r.a);
    try {
        if (archive_lib().read_open(r.a, &cs, nullptr, &CallbackSource::read_cb, nullptr) !=
            ARCHIVE_OK) {
            const char* msg = archive_lib().error_string(r.a);
            throw Error(
                Errc::failed,
                std::string("cannot read the archive: ") + (msg != nullptr ? msg : "unknown"),
                "is it a tar file (plain, gzip, xz, zstd or bzip2)?");
        }
        Extractor x(dest_dir, opts);
        return x.run(r.a);
    } catch (...) {
        if (cs.error) std::rethrow_exception(cs.error);
        throw;
    }
}

UnpackStats unpack_layer(const ObjectStore& objects, const Digest& layer,
                         const std::string& dest_dir, const UnpackOptions& opts) {
    std::string path = objects.layout().object_path(layer);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            throw Error(Errc::not_found, "layer " + layer.str() + " is not in the store",
                        "rebuild the environment that needs it");
        throw_errno(Errc::store, "cannot open layer " + path);
    }
    HashingSource source{fd.get(), Sha256()};
    ArchiveReader r;
    UnpackStats stats;
    try {
        open_archive(r, fd.get(), &source);
        Extractor x(dest_dir, opts);
        stats = x.run(r.a);
    } catch (const Error& e) {
        // A damaged object explains a broken archive better than the parse error does.
        if (e.code() != Errc::cancelled && source.finish() != layer)
            throw Error(Errc::store, "corrupt layer object " + path + " (" + e.what() + ")",
                        "run `karapace verify-store`");
        throw;
    }
    Digest got = source.finish();
    if (got != layer)
        throw Error(Errc::store,
                    "corrupt layer object " + path + ": its content hashes to " + got.str(),
                    "remove " + dest_dir + "; run `karapace verify-store`");
    return stats;
}

UnpackStats unpack_tar_file(const std::string& tar_path, const std::string& dest_dir,
                            const UnpackOptions& opts) {
    UniqueFd fd(::open(tar_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(Errc::failed, "cannot open " + tar_path);
    try {
        return unpack_tar_fd(fd.get(), dest_dir, opts);
    } catch (const Error& e) {
        throw Error(e.code(), tar_path + ": " + e.what(), e.hint());
    }
}

}  // namespace karapace::store
