// RAII owners for file descriptors and small fd/file helpers shared by every layer.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace karapace {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// Both ends of a pipe, each O_CLOEXEC, closed when the owner goes away. Throws Error(failed)
// when the kernel refuses (out of file descriptors).
struct Pipe {
    UniqueFd read;
    UniqueFd write;
    Pipe();
};

// Writes all of `data`, retrying on EINTR and short writes; throws Error naming `what`.
void write_all(int fd, std::string_view data, const std::string& what);
// Reads a whole file into memory (for small files: records, configs). Throws Error(not_found) when
// the file does not exist.
std::string read_file(const std::string& path);
// Like read_file but refuses files larger than `limit` bytes.
std::string read_file_limited(const std::string& path, std::size_t limit);

}  // namespace karapace
