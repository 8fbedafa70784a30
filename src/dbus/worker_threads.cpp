#include "worker_threads.hpp"

#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::dbus {

void WorkerThreads::spawn(std::function<void()> work) {
    if (threads_.size() >= max_) {
        throw Error(Errc::busy,
                    "karapace-dbus is already running " + std::to_string(max_) + " operations",
                    "wait for some to finish and try again");
    }
    auto id = next_id_++;
    ++live_;
    threads_.emplace(id, std::thread([this, id, work = std::move(work)] {
                         try {
                             work();
                         } catch (const std::exception& e) {
                             log::error("worker thread: ", e.what());
                         }
                         --live_;
                         loop_.post([this, id] { reap(id); });
                     }));
}

void WorkerThreads::reap(std::uint64_t id) {
    auto it = threads_.find(id);
    if (it == threads_.end()) return;
    if (it->second.joinable()) it->second.join();
    threads_.erase(it);
}

bool WorkerThreads::wait_finished(std::chrono::milliseconds limit) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (live_.load() > 0) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

void WorkerThreads::join_all() {
    for (auto& [id, thread] : threads_) {
        if (thread.joinable()) thread.join();
    }
    threads_.clear();
}

}  // namespace karapace::dbus
