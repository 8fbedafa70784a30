// Threads that write regular files' contents while the tar reader goes on to the next entry: the
// reader creates each file (in archive order, with every hardening check) and hands over its data;
// a writer thread writes it, hashes it and sets its owner, mode, xattrs and mtime. Internal to
// libkarapace.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "karapace/store/tree_digest.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::store {

// How a regular file is left once its contents are in.
struct FileAttributes {
    mode_t perm = 0644;
    std::optional<std::pair<uid_t, gid_t>> owner;  // unset: left to the extracting process
    std::vector<std::pair<std::string, std::string>> xattrs;  // already filtered
    timespec mtime{};
    std::int64_t size = 0;  // the entry's size: a sparse file ends in a hole no data covers
};

class FileWriters {
public:
    // `threads` writer threads; each finished file's hash goes into `written` when it is set.
    explicit FileWriters(std::size_t threads, WrittenContents* written);
    // Drops the work not yet done (closing its files) and waits for the threads.
    ~FileWriters();
    FileWriters(const FileWriters&) = delete;
    FileWriters& operator=(const FileWriters&) = delete;

    // How many writers an extraction uses: one per CPU this process may run on, at most 4.
    static std::size_t default_threads();

    // Hands over a file just created empty and opened for writing, named `entry` in messages; its
    // data follows with data(), then close(). One file at a time. Each of these may wait for
    // room (at most a few MB and a few hundred files are in flight) and rethrows the first error
    // a writer met.
    void open(UniqueFd fd, std::string entry, FileAttributes attrs);
    // The same for a file the writer creates (O_EXCL, no symlink followed) as `name` in the
    // directory `parent`, which the pointer keeps open. The caller makes sure nothing sits at that
    // name and that no later entry depends on the file before finish() has returned.
    void create(std::shared_ptr<const UniqueFd> parent, std::string name, std::string entry,
                FileAttributes attrs);
    void data(std::int64_t offset, const void* bytes, std::size_t size);
    void close();
    // Waits until every file handed over is written and closed; rethrows the first error a
    // writer met.
    void finish();

private:
    struct File;
    struct Piece {
        std::shared_ptr<File> file;
        std::int64_t offset;
        std::size_t at, size;  // in the batch's bytes
        bool last;
    };
    struct Batch {
        std::vector<char> bytes;
        std::vector<Piece> pieces;
        std::size_t files = 0;  // pieces that close a file
    };

    void run(std::size_t index);
    void write(const Batch& batch, const Piece& piece);
    void flush();
    void rethrow_locked();

    WrittenContents* written_;
    std::mutex written_mutex_;
    const std::size_t max_files_, batch_files_;  // open files in flight; per batch

    std::mutex mutex_;
    std::condition_variable work_, room_;
    std::vector<std::deque<Batch>> queues_;  // one per thread: a file's pieces stay in order
    std::size_t bytes_in_flight_ = 0, files_in_flight_ = 0, in_flight_ = 0;  // in_flight_: batches
    bool stop_ = false;
    std::exception_ptr error_;

    Batch batch_;                 // being filled by the reader
    std::shared_ptr<File> file_;  // the open file, between open() and close()
    std::size_t next_queue_ = 0;  // where the next batch goes; kept while a file spans batches
    std::vector<std::thread> threads_;
};

}  // namespace karapace::store
