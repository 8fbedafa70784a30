#include "karapace/store/remove.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::store {

namespace {

// Empties the directory open as `dfd` (which it takes over), recursing fd-relatively so a
// concurrent rename or symlink swap cannot redirect the removal elsewhere.
void empty_dir(int dfd, const std::string& shown) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dfd), ::closedir);
    if (!d) {
        ::close(dfd);
        throw_errno(Errc::failed, "cannot read directory " + shown);
    }
    int fd = ::dirfd(d.get());
    for (;;) {
        errno = 0;
        dirent* e = ::readdir(d.get());
        if (e == nullptr) {
            if (errno != 0) throw_errno(Errc::failed, "cannot read directory " + shown);
            break;
        }
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string child = shown + "/" + name;
        if (::unlinkat(fd, name.c_str(), 0) == 0) continue;
        if (errno == ENOENT) continue;
        if (errno == EACCES || errno == EPERM) {
            // The directory itself is read-only: make it writable and retry.
            if (::fchmod(fd, 0700) == 0 && ::unlinkat(fd, name.c_str(), 0) == 0) continue;
        }
        if (errno != EISDIR) throw_errno(Errc::failed, "cannot remove " + child);
        int cfd = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0 && (errno == EACCES || errno == EPERM)) {
            struct stat st {};
            if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                ::fchmodat(fd, name.c_str(), (st.st_mode & 07777) | S_IRWXU, 0) == 0)
                cfd = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (cfd < 0) throw_errno(Errc::failed, "cannot open directory " + child);
        ::fchmod(cfd, 0700);  // best effort; removal reports the real failure
        empty_dir(cfd, child);
        if (::unlinkat(fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
            if (!((errno == EACCES || errno == EPERM) && ::fchmod(fd, 0700) == 0 &&
                  ::unlinkat(fd, name.c_str(), AT_REMOVEDIR) == 0))
                throw_errno(Errc::failed, "cannot remove directory " + child);
        }
    }
}

}  // namespace

void remove_tree(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw_errno(Errc::failed, "cannot inspect " + path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw_errno(Errc::failed, "cannot remove " + path);
        return;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
        ::chmod(path.c_str(), (st.st_mode & 07777) | S_IRWXU);
        fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) throw_errno(Errc::failed, "cannot open directory " + path);
    ::fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
    empty_dir(fd, path);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
        std::string parent = parent_dir(path);
        struct stat pst {};
        if ((errno == EACCES || errno == EPERM) && ::stat(parent.c_str(), &pst) == 0 &&
            ::chmod(parent.c_str(), (pst.st_mode & 07777) | S_IWUSR) == 0 &&
            ::rmdir(path.c_str()) == 0)
            return;
        throw_errno(Errc::failed, "cannot remove directory " + path);
    }
}

Remover default_remover() {
    return [](const std::string& p) { remove_tree(p); };
}

namespace {

std::uint64_t dir_size(int dfd) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dfd), ::closedir);
    if (!d) {
        ::close(dfd);
        return 0;
    }
    std::uint64_t total = 0;
    int fd = ::dirfd(d.get());
    while (dirent* e = ::readdir(d.get())) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            int cfd = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd >= 0) total += dir_size(cfd);
        } else if (S_ISREG(st.st_mode)) {
            total += static_cast<std::uint64_t>(st.st_size);
        }
    }
    return total;
}

}  // namespace

std::uint64_t tree_size(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return 0;
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? 0 : dir_size(fd);
}

}  // namespace karapace::store
