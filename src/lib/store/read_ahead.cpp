#include "store/read_ahead.hpp"

#include <cstdint>

namespace karapace::store {

ReadAhead::ReadAhead(Filler fill, std::size_t chunk, std::size_t depth)
    : fill_(std::move(fill)), buffers_(depth, std::vector<char>(chunk)) {
    for (std::size_t i = 0; i < depth; ++i)
        free_.push_back(i);
    thread_ = std::thread([this] { run(); });
}

ReadAhead::~ReadAhead() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void ReadAhead::run() {
    for (;;) {
        std::size_t index;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stop_ || !free_.empty(); });
            if (stop_) return;
            index = free_.front();
            free_.pop_front();
        }
        std::size_t n = 0;
        std::exception_ptr error;
        try {
            n = fill_(buffers_[index].data(), buffers_[index].size());
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard lock(mutex_);
            if (error || n == 0) {
                error_ = error;
                done_ = true;
            } else {
                full_.emplace_back(index, n);
            }
        }
        changed_.notify_all();
        if (error || n == 0) return;
    }
}

std::size_t ReadAhead::next(const void** data) {
    std::unique_lock lock(mutex_);
    if (held_ != SIZE_MAX) {
        free_.push_back(held_);
        held_ = SIZE_MAX;
        changed_.notify_all();
    }
    changed_.wait(lock, [&] { return !full_.empty() || done_; });
    if (full_.empty()) {
        if (error_) std::rethrow_exception(error_);
        return 0;
    }
    auto [index, n] = full_.front();
    full_.pop_front();
    held_ = index;
    *data = buffers_[index].data();
    return n;
}

}  // namespace karapace::store
