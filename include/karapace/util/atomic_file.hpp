// Crash-safe file replacement: write to a temp file in the destination's directory, fsync it,
// rename it over the destination, then fsync the directory. A reader sees the old file or the new
// one, never a torn one; temp names start with ".tmp" so directory scans can skip them.
#pragma once

#include <sys/types.h>
#include <string>
#include <string_view>

#include "karapace/util/fd.hpp"

namespace karapace {

// Whether a replacement must survive a crash of the machine. `none` keeps the temp file and
// rename (readers never see a torn file) but skips both fsyncs: for files that describe running
// processes, which mean nothing after a reboot.
enum class Sync { durable, none };

class AtomicFile {
public:
    // Creates the temp file next to `path` (same directory, so rename stays on one filesystem).
    explicit AtomicFile(std::string path, mode_t mode = 0644);
    // Unlinks the temp file unless commit() succeeded.
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    int fd() const noexcept { return fd_.get(); }
    const std::string& temp_path() const noexcept { return temp_; }
    void write(std::string_view data);
    // fsync, rename over the destination, fsync the directory (no fsync with Sync::none).
    void commit(Sync sync = Sync::durable);

private:
    std::string path_;
    std::string temp_;
    UniqueFd fd_;
    bool committed_ = false;
};

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                       Sync sync = Sync::durable);
// fsync a directory so a rename or unlink in it survives a crash.
void fsync_dir(const std::string& dir);
std::string parent_dir(const std::string& path);

}  // namespace karapace
