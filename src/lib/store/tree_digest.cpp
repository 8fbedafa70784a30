#include "karapace/store/tree_digest.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"

namespace karapace::store {

namespace {

// Every field ends with a NUL, which no path, link target or number contains, and the type
// decides how many fields follow: the encoding of one walk is never the encoding of another.
class TreeHasher {
public:
    explicit TreeHasher(std::string root, const WrittenContents* written = nullptr)
        : root_(std::move(root)), buf_(1 << 20), written_(written) {
        field(tree_digest_scheme);
    }

    TreeDigest run() {
        UniqueFd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw_errno(Errc::store, "cannot open " + root_);
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw_errno(Errc::store, "cannot inspect " + root_);
        header(".", 'd', st);
        directory(std::move(fd), "");
        out_.digest = tree_.finish();
        return out_;
    }

private:
    void field(std::string_view text) {
        tree_.update(text);
        tree_.update("", 1);
    }
    void number(std::uint64_t n) { field(std::to_string(n)); }

    void header(const std::string& rel, char type, const struct stat& st) {
        ++out_.entries;
        field(rel);
        field(std::string_view(&type, 1));
        char mode[8];
        std::snprintf(mode, sizeof mode, "%o", static_cast<unsigned>(st.st_mode & 07777));
        field(mode);
        number(st.st_uid);
        number(st.st_gid);
    }

    std::string shown(const std::string& rel) const { return root_ + "/" + rel; }

    void directory(UniqueFd fd, const std::string& rel) {
        std::vector<std::string> names;
        {
            int dup = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
            if (dup < 0) throw_errno(Errc::store, "cannot read directory " + shown(rel));
            std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dup), ::closedir);
            if (!d) {
                ::close(dup);
                throw_errno(Errc::store, "cannot read directory " + shown(rel));
            }
            for (;;) {
                errno = 0;
                dirent* e = ::readdir(d.get());
                if (e == nullptr) {
                    if (errno != 0) throw_errno(Errc::store, "cannot read directory " + shown(rel));
                    break;
                }
                std::string_view n = e->d_name;
                if (n != "." && n != "..") names.emplace_back(n);
            }
        }
        std::sort(names.begin(), names.end());
        for (const auto& name : names)
            entry(fd.get(), name, rel.empty() ? name : rel + "/" + name);
    }

    void entry(int dir_fd, const std::string& name, const std::string& rel) {
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno(Errc::store, "cannot inspect " + shown(rel));
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR: {
            header(rel, 'd', st);
            UniqueFd fd(
                ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd) throw_errno(Errc::store, "cannot open directory " + shown(rel));
            directory(std::move(fd), rel);
            return;
        }
        case S_IFREG: return regular(dir_fd, name, rel, st);
        case S_IFLNK: {
            header(rel, 'l', st);
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
            if (n < 0) throw_errno(Errc::store, "cannot read the symlink " + shown(rel));
            if (static_cast<std::size_t>(n) >= target.size())
                throw Error(Errc::store, "the symlink " + shown(rel) + " changed while read");
            target.resize(static_cast<std::size_t>(n));
            field(target);
            return;
        }
        case S_IFCHR:
        case S_IFBLK:
            header(rel, S_ISCHR(st.st_mode) ? 'c' : 'b', st);
            number(major(st.st_rdev));
            number(minor(st.st_rdev));
            return;
        case S_IFIFO: return header(rel, 'p', st);
        case S_IFSOCK: return header(rel, 's', st);
        default: throw Error(Errc::store, shown(rel) + " has an unknown file type");
        }
    }

    void regular(int dir_fd, const std::string& name, const std::string& rel,
                 const struct stat& st) {
        header(rel, 'f', st);
        number(static_cast<std::uint64_t>(st.st_size));
        out_.bytes += static_cast<std::uint64_t>(st.st_size);
        if (const WrittenContent* w = written(st)) {
            field(w->digest.hex());
            field(capability_hex(shown(rel), ::lgetxattr(shown(rel).c_str(), "security.capability",
                                                         cap_buf_, sizeof cap_buf_)));
            return;
        }
        // O_NONBLOCK: a FIFO swapped in after the stat must not block the walk.
        UniqueFd fd(::openat(dir_fd, name.c_str(),
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (!fd) throw_errno(Errc::store, "cannot open " + shown(rel));
        struct stat now {};
        if (::fstat(fd.get(), &now) != 0 || !S_ISREG(now.st_mode) || now.st_ino != st.st_ino)
            throw Error(Errc::store, shown(rel) + " changed while it was read");
        // Hard links share their contents: hash them once.
        auto key = std::make_pair(now.st_dev, now.st_ino);
        auto known = now.st_nlink > 1 ? links_.find(key) : links_.end();
        Digest contents = known != links_.end() ? known->second : contents_of(fd.get(), rel);
        if (now.st_nlink > 1) links_.emplace(key, contents);
        field(contents.hex());
        field(capability(fd.get(), rel));
    }

    Digest contents_of(int fd, const std::string& rel) {
        Sha256 h;
        for (;;) {
            ssize_t n = ::read(fd, buf_.data(), buf_.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_errno(Errc::store, "cannot read " + shown(rel));
            }
            if (n == 0) break;
            h.update(buf_.data(), static_cast<std::size_t>(n));
        }
        return h.finish();
    }

    // The recorded hash of a file this process wrote, when the file still is as it was left.
    const WrittenContent* written(const struct stat& st) const {
        if (written_ == nullptr) return nullptr;
        auto it = written_->find(
            {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)});
        if (it == written_->end()) return nullptr;
        const auto& w = it->second;
        if (w.size != static_cast<std::uint64_t>(st.st_size) || w.mtime_sec != st.st_mtim.tv_sec ||
            w.mtime_nsec != st.st_mtim.tv_nsec)
            return nullptr;
        return &w;
    }

    // A file capability grants privileges like a setuid bit does, so it is part of the tree.
    std::string capability(int fd, const std::string& rel) {
        return capability_hex(shown(rel),
                              ::fgetxattr(fd, "security.capability", cap_buf_, sizeof cap_buf_));
    }

    // `n`: what getxattr returned into cap_buf_.
    std::string capability_hex(const std::string& path, ssize_t n) {
        if (n < 0) {
            if (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP) return {};
            throw_errno(Errc::store, "cannot read the capabilities of " + path);
        }
        static constexpr char digits[] = "0123456789abcdef";
        std::string hex;
        for (ssize_t i = 0; i < n; ++i) {
            auto b = static_cast<unsigned char>(cap_buf_[i]);
            hex += digits[b >> 4];
            hex += digits[b & 0xf];
        }
        return hex;
    }

    std::string root_;
    Sha256 tree_;
    TreeDigest out_;
    std::vector<char> buf_;
    const WrittenContents* written_ = nullptr;
    char cap_buf_[64] = {};
    std::map<std::pair<dev_t, ino_t>, Digest> links_;
};

}  // namespace

TreeDigest digest_tree(const std::string& root) {
    return digest_unpacked_tree(root, WrittenContents{});
}

TreeDigest digest_unpacked_tree(const std::string& root, const WrittenContents& written) {
    try {
        return TreeHasher(root, written.empty() ? nullptr : &written).run();
    } catch (const Error& e) {
        // An entry that cannot be read (EACCES included) is a fact about the tree, not about the
        // caller's rights: the walk runs with the rights the tree was made with.
        if (e.code() == Errc::store) throw;
        throw Error(Errc::store, e.what(), e.hint());
    }
}

boost::json::object to_json(const TreeDigest& tree) {
    boost::json::object o;
    o["scheme"] = tree_digest_scheme;
    o["digest"] = tree.digest.str();
    o["entries"] = tree.entries;
    o["bytes"] = tree.bytes;
    return o;
}

TreeDigest tree_digest_from_json(const boost::json::value& v, const std::string& what) {
    if (!v.is_object()) throw Error(Errc::store, what + ": the tree digest is not an object");
    const auto& o = v.as_object();
    auto scheme = json::get_string(o, "scheme", what);
    if (scheme != tree_digest_scheme)
        throw Error(Errc::store, what + ": unknown tree digest scheme '" + scheme + "'",
                    "a newer karapace wrote it; use that version, or fetch the image again");
    TreeDigest t;
    try {
        t.digest = Digest::parse(json::get_string(o, "digest", what));
    } catch (const Error& e) {
        throw Error(Errc::store, what + ": " + e.what());
    }
    auto entries = json::get_int(o, "entries", what);
    auto bytes = json::get_int(o, "bytes", what);
    if (entries < 0 || bytes < 0) throw Error(Errc::store, what + ": negative tree counts");
    t.entries = static_cast<std::uint64_t>(entries);
    t.bytes = static_cast<std::uint64_t>(bytes);
    return t;
}

std::string describe_difference(const TreeDigest& recorded, const TreeDigest& now) {
    auto count = [](std::uint64_t got, std::uint64_t want, const char* one, const char* many) {
        std::uint64_t n = got > want ? got - want : want - got;
        return std::to_string(n) + " " + (n == 1 ? one : many) + (got > want ? " more" : " fewer") +
               " than recorded";
    };
    std::string out;
    if (now.entries != recorded.entries)
        out = count(now.entries, recorded.entries, "entry", "entries");
    if (now.bytes != recorded.bytes) {
        if (!out.empty()) out += ", ";
        out += count(now.bytes, recorded.bytes, "byte of file contents", "bytes of file contents");
    }
    if (out.empty()) out = "a file's contents, mode, owner or link target differs";
    return out;
}

}  // namespace karapace::store
