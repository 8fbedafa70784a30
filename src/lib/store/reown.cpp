#include "store/reown.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::store {

namespace {

constexpr std::uint32_t cap_revision_mask = 0xFF000000u;
constexpr std::uint32_t cap_revision_2 = 0x02000000u;
constexpr std::uint32_t cap_revision_3 = 0x03000000u;
constexpr std::size_t cap_v2_size = 20;  // magic_etc + 2 x (permitted, inheritable)
constexpr std::size_t cap_v3_size = 24;  // ... + rootid

using Visit = std::function<bool(int dirfd, const char* name, const std::string& path,
                                 const struct stat& st)>;

std::vector<std::string> names_in(int dirfd, const std::string& path) {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) throw_errno(Errc::store, "cannot read directory " + path);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dup), ::closedir);
    if (!d) {
        ::close(dup);
        throw_errno(Errc::store, "cannot read directory " + path);
    }
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        dirent* e = ::readdir(d.get());
        if (e == nullptr) {
            if (errno != 0) throw_errno(Errc::store, "cannot read directory " + path);
            break;
        }
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    return names;
}

// Depth first, a directory before what it holds; `visit` returning false stops the walk.
bool walk(int dirfd, const std::string& path, dev_t dev, const Visit& visit) {
    for (const auto& name : names_in(dirfd, path)) {
        std::string child = path + "/" + name;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno(Errc::store, "cannot inspect " + child);
        if (!visit(dirfd, name.c_str(), child, st)) return false;
        if (!S_ISDIR(st.st_mode) || st.st_dev != dev) continue;
        UniqueFd sub(
            ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) throw_errno(Errc::store, "cannot open " + child);
        if (!walk(sub.get(), child, dev, visit)) return false;
    }
    return true;
}

bool walk_tree(const std::string& root, bool include_top, const Visit& visit) {
    UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno(Errc::store, "cannot open " + root);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno(Errc::store, "cannot inspect " + root);
    if (include_top && !visit(fd.get(), "", root, st)) return false;
    return walk(fd.get(), root, st.st_dev, visit);
}

// A file capability as this namespace reads it: revision 3 names its root by id when that root is
// not this namespace's; written back as revision 2 it is recorded for this namespace's root.
struct Capability {
    unsigned char value[64];
    std::size_t size = 0;
    bool names_root = false;
};

std::optional<Capability> read_capability(int fd, const std::string& path) {
    Capability cap;
    ssize_t n = ::fgetxattr(fd, "security.capability", cap.value, sizeof cap.value);
    if (n < 0) {
        if (errno == ENODATA || errno == ENOTSUP || errno == EOVERFLOW) return std::nullopt;
        throw_errno(Errc::store, "cannot read the capabilities of " + path);
    }
    std::uint32_t magic = 0;
    if (static_cast<std::size_t>(n) < cap_v2_size) return std::nullopt;
    std::memcpy(&magic, cap.value, sizeof magic);
    cap.size = static_cast<std::size_t>(n);
    cap.names_root = (magic & cap_revision_mask) == cap_revision_3 && cap.size >= cap_v3_size;
    return cap;
}

void write_capability(int fd, Capability cap, const std::string& path) {
    std::uint32_t magic = 0;
    std::memcpy(&magic, cap.value, sizeof magic);
    if (cap.names_root) {
        magic = (magic & ~cap_revision_mask) | cap_revision_2;
        std::memcpy(cap.value, &magic, sizeof magic);
        cap.size = cap_v2_size;
    }
    if (::fsetxattr(fd, "security.capability", cap.value, cap.size, 0) != 0)
        throw_errno(Errc::store, "cannot write the capabilities of " + path);
}

}  // namespace

ReownCount reown_tree(const std::string& root, bool include_top, const ReownStep& step) {
    ReownCount count;
    walk_tree(
        root, include_top,
        [&](int dirfd, const char* name, const std::string& path, const struct stat& st) {
            ++count.entries;
            uid_t uid = st.st_uid == step.from_uid ? step.to_uid : st.st_uid;
            gid_t gid = st.st_gid == step.from_gid ? step.to_gid : st.st_gid;
            bool top = *name == '\0';
            int flags = top ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW;
            // Regular files are opened (no following, no blocking on a fifo) for their capability.
            UniqueFd file;
            if (S_ISREG(st.st_mode)) {
                file.reset(::openat(dirfd, top ? "." : name,
                                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
                if (!file && errno != EACCES) throw_errno(Errc::store, "cannot open " + path);
            }
            // chown drops a file capability: it is read first and written back after.
            std::optional<Capability> cap;
            if (file) cap = read_capability(file.get(), path);
            bool chown = uid != st.st_uid || gid != st.st_gid;
            if (chown) {
                if (::fchownat(dirfd, name, uid, gid, flags) != 0)
                    throw_errno(Errc::store, "cannot change the owner of " + path);
                ++count.changed;
                // chown clears set-user-id and set-group-id bits: they stay what they were.
                if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0 &&
                    ::fchmodat(dirfd, top ? "." : name, st.st_mode & 07777, 0) != 0)
                    throw_errno(Errc::store, "cannot restore the mode of " + path);
            }
            if (cap && (chown || cap->names_root)) {
                write_capability(file.get(), *cap, path);
                ++count.capabilities;
            }
            return true;
        });
    return count;
}

std::string find_owned_by(const std::string& root, bool include_top, uid_t uid, gid_t gid) {
    std::string found;
    walk_tree(root, include_top,
              [&](int, const char*, const std::string& path, const struct stat& st) {
                  if (st.st_uid != uid && st.st_gid != gid) return true;
                  found = path;
                  return false;
              });
    return found;
}

}  // namespace karapace::store
