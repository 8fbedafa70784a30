// Helpers shared by the store tests: temp directories, child processes, small tree builders.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "karapace/store/remove.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::store::test {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/karapace-store-test-XXXXXX";
        char* p = ::mkdtemp(tmpl);
        if (p == nullptr) std::abort();
        path_ = p;
    }
    ~TempDir() {
        try {
            remove_tree(path_);
        } catch (...) {}
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

// Runs `fn` in a forked child; returns its exit status (128 + signal when killed). Exceptions in
// the child exit 99. The child never returns into the test framework.
inline int run_child(const std::function<int()>& fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int rc = 99;
        try {
            rc = fn();
        } catch (...) {}
        ::_exit(rc);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

inline void write_text(const std::string& path, const std::string& text, mode_t mode = 0644) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) std::abort();
    write_all(fd.get(), text, path);
    ::fchmod(fd.get(), mode);
}

inline std::string read_text(const std::string& path) { return read_file(path); }

// Flips one byte of a file in place (its mode is made writable first).
inline void flip_byte(const std::string& path, off_t offset) {
    ::chmod(path.c_str(), 0644);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    char c = 0;
    if (::pread(fd.get(), &c, 1, offset) != 1) std::abort();
    c = static_cast<char>(c ^ 0x20);
    if (::pwrite(fd.get(), &c, 1, offset) != 1) std::abort();
}

// Names in `dir` (without "." and ".."), sorted; empty when it does not exist.
inline std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return out;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

// Every path below `root` whose last component starts with ".tmp".
inline std::vector<std::string> temp_files(const std::string& root) {
    std::vector<std::string> out;
    for (const auto& n : entries(root)) {
        std::string p = root + "/" + n;
        if (n.rfind(".tmp", 0) == 0) out.push_back(p);
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            for (auto& x : temp_files(p))
                out.push_back(x);
    }
    return out;
}

inline bool is_root() { return ::geteuid() == 0; }

}  // namespace karapace::store::test
