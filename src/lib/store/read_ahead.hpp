// A decode thread in front of the tar reader: one thread fills buffers (decompressing, hashing)
// while the caller's thread creates the files, so extraction costs the slower of the two rather
// than their sum. Internal to libkarapace.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace karapace::store {

// Fills `buf` with up to `cap` bytes and returns how many, 0 at the end of the stream. It runs on
// the read-ahead thread and may throw; the exception reaches the reader.
using Filler = std::function<std::size_t(char* buf, std::size_t cap)>;

class ReadAhead {
public:
    // Starts the thread at once; it keeps at most `depth` buffers of `chunk` bytes filled ahead.
    explicit ReadAhead(Filler fill, std::size_t chunk = std::size_t{1} << 20,
                       std::size_t depth = 4);
    // Stops the thread (it ends after the buffer it is filling) and waits for it.
    ~ReadAhead();
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    // The next filled bytes, valid until the following call; 0 at the end. Rethrows what the
    // filler threw.
    std::size_t next(const void** data);

private:
    void run();

    Filler fill_;
    std::vector<std::vector<char>> buffers_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::size_t> free_;                          // buffer indices the filler may use
    std::deque<std::pair<std::size_t, std::size_t>> full_;  // (index, bytes) ready to read
    std::size_t held_ = SIZE_MAX;                           // the buffer the reader holds
    bool done_ = false;                                     // the filler returned 0 or threw
    bool stop_ = false;                                     // the reader is gone
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace karapace::store
