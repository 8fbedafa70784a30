// Helpers for the export tests: a temporary directory and small tree builders for fake layers.
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "karapace/store/remove.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::exports::test {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/karapace-export-test-XXXXXX";
        char* p = ::mkdtemp(tmpl);
        if (p == nullptr) std::abort();
        path_ = p;
    }
    ~TempDir() {
        try {
            store::remove_tree(path_);
        } catch (...) {}
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

inline void put(const std::string& path, const std::string& text, mode_t mode = 0644) {
    make_dirs(parent_dir(path));
    write_file_atomic(path, text, mode);
}

inline void link_to(const std::string& path, const std::string& target) {
    make_dirs(parent_dir(path));
    if (::symlink(target.c_str(), path.c_str()) != 0) std::abort();
}

// An overlay whiteout: the character device 0/0 the kernel writes, or (without the privilege
// to create device nodes) an empty file with the user.overlay.whiteout attribute. False when
// neither is possible here.
inline bool whiteout(const std::string& path) {
    make_dirs(parent_dir(path));
    if (::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) == 0) return true;
    put(path, "");
    return ::setxattr(path.c_str(), "user.overlay.whiteout", "", 0, 0) == 0;
}

inline bool opaque(const std::string& dir) {
    make_dirs(dir);
    return ::setxattr(dir.c_str(), "user.overlay.opaque", "y", 1, 0) == 0;
}

}  // namespace karapace::exports::test
