#include "store/file_writers.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::store {

namespace {

// A batch goes to a writer once it holds this much data or this many files: one hand-over (a
// lock and a wake-up) per batch rather than per file, as most files in a root filesystem are small.
constexpr std::size_t kBatchBytes = std::size_t{512} << 10;
constexpr std::size_t kBatchFiles = 64;
// In flight at most: the reader waits beyond this, bounding memory and open files (a quarter of
// the open-file limit, so that the rest of the process keeps its share).
constexpr std::size_t kMaxBytes = std::size_t{32} << 20;
constexpr std::size_t kMaxFiles = 512;

std::size_t files_allowed() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return kMaxFiles;
    return std::clamp<std::size_t>(static_cast<std::size_t>(r.rlim_cur) / 4, 4, kMaxFiles);
}

[[noreturn]] void fail_errno(const std::string& entry, const std::string& what) {
    throw_errno(Errc::failed, "cannot extract tar entry '" + entry + "' (" + what + ")");
}

}  // namespace

struct FileWriters::File {
    UniqueFd fd;
    std::shared_ptr<const UniqueFd> parent;  // with `name`: the writer creates the file
    std::string name;
    std::string entry;
    FileAttributes attrs;
    std::optional<Sha256> hash;
    std::int64_t hashed = 0;  // the hash covers [0, hashed) when it has no holes
    std::int64_t end = 0;     // where the last data written ends
    bool whole = true;
};

FileWriters::FileWriters(std::size_t threads, WrittenContents* written)
    : written_(written),
      max_files_(files_allowed()),
      batch_files_(std::clamp<std::size_t>(max_files_ / 4, 1, kBatchFiles)),
      queues_(std::max<std::size_t>(threads, 1)) {
    batch_.bytes.reserve(kBatchBytes);
    threads_.reserve(queues_.size());
    try {
        for (std::size_t i = 0; i < queues_.size(); ++i)
            threads_.emplace_back([this, i] { run(i); });
    } catch (...) {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        work_.notify_all();
        for (auto& t : threads_)
            t.join();
        throw;
    }
}

FileWriters::~FileWriters() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        for (auto& q : queues_)
            q.clear();  // closes the files nobody will write now
    }
    work_.notify_all();
    for (auto& t : threads_)
        t.join();
}

std::size_t FileWriters::default_threads() {
    cpu_set_t set;
    std::size_t cpus = 1;
    if (::sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = static_cast<std::size_t>(std::max(1, CPU_COUNT(&set)));
    return std::min<std::size_t>(cpus, 4);
}

void FileWriters::open(UniqueFd fd, std::string entry, FileAttributes attrs) {
    file_ = std::make_shared<File>();
    file_->fd = std::move(fd);
    file_->entry = std::move(entry);
    file_->attrs = std::move(attrs);
    if (written_ != nullptr) file_->hash.emplace();
}

void FileWriters::create(std::shared_ptr<const UniqueFd> parent, std::string name,
                         std::string entry, FileAttributes attrs) {
    open(UniqueFd(), std::move(entry), std::move(attrs));
    file_->parent = std::move(parent);
    file_->name = std::move(name);
}

void FileWriters::data(std::int64_t offset, const void* bytes, std::size_t size) {
    if (size == 0) return;
    const std::size_t at = batch_.bytes.size();
    const auto* p = static_cast<const char*>(bytes);
    batch_.bytes.insert(batch_.bytes.end(), p, p + size);
    batch_.pieces.push_back({file_, offset, at, size, false});
    if (batch_.bytes.size() >= kBatchBytes) flush();
}

void FileWriters::close() {
    // The file's last piece closes it; a piece of data just added can do that itself.
    if (!batch_.pieces.empty() && batch_.pieces.back().file == file_)
        batch_.pieces.back().last = true;
    else
        batch_.pieces.push_back({file_, 0, 0, 0, true});
    ++batch_.files;
    file_.reset();
    if (batch_.bytes.size() >= kBatchBytes || batch_.files >= batch_files_) flush();
}

void FileWriters::rethrow_locked() {
    if (error_) std::rethrow_exception(error_);
}

void FileWriters::flush() {
    if (batch_.pieces.empty()) return;
    const std::size_t bytes = batch_.bytes.size();
    const std::size_t files = batch_.files;
    {
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] {
            return error_ || in_flight_ == 0 ||
                   (bytes_in_flight_ + bytes <= kMaxBytes &&
                    files_in_flight_ + files <= max_files_);
        });
        rethrow_locked();
        queues_[next_queue_].push_back(std::move(batch_));
        bytes_in_flight_ += bytes;
        files_in_flight_ += files;
        ++in_flight_;
    }
    work_.notify_all();
    // A file that goes on in the next batch stays with the same writer: its pieces stay in order.
    if (!file_) next_queue_ = (next_queue_ + 1) % queues_.size();
    batch_ = Batch{};
    batch_.bytes.reserve(kBatchBytes);
}

void FileWriters::finish() {
    flush();
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return error_ || in_flight_ == 0; });
    rethrow_locked();
}

void FileWriters::run(std::size_t index) {
    for (;;) {
        Batch batch;
        bool failed;
        {
            std::unique_lock lock(mutex_);
            work_.wait(lock, [&] { return stop_ || !queues_[index].empty(); });
            if (stop_) return;
            batch = std::move(queues_[index].front());
            queues_[index].pop_front();
            failed = error_ != nullptr;
        }
        // After a failure the rest is dropped: the extraction ends with that error.
        for (const auto& piece : batch.pieces) {
            if (failed) break;
            try {
                write(batch, piece);
            } catch (...) {
                std::lock_guard lock(mutex_);
                if (!error_) error_ = std::current_exception();
                failed = true;
            }
        }
        const std::size_t bytes = batch.bytes.size(), files = batch.files;
        batch = Batch{};  // closes what it still holds before the reader is told
        {
            std::lock_guard lock(mutex_);
            bytes_in_flight_ -= bytes;
            files_in_flight_ -= files;
            --in_flight_;
        }
        room_.notify_all();
    }
}

void FileWriters::write(const Batch& batch, const Piece& piece) {
    File& f = *piece.file;
    if (!f.fd) {
        f.fd.reset(::openat(f.parent->get(), f.name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!f.fd) fail_errno(f.entry, "creating the file");
        f.parent.reset();
    }
    if (piece.size > 0) {
        const char* p = batch.bytes.data() + piece.at;
        std::int64_t offset = piece.offset;
        if (f.hash) {
            f.whole = f.whole && offset == f.hashed;
            f.hash->update(p, piece.size);
            f.hashed = offset + static_cast<std::int64_t>(piece.size);
        }
        std::size_t left = piece.size;
        while (left > 0) {
            ssize_t w = ::pwrite(f.fd.get(), p, left, offset);
            if (w < 0) {
                if (errno == EINTR) continue;
                fail_errno(f.entry, "writing its data");
            }
            p += w, left -= static_cast<std::size_t>(w), offset += w;
        }
        f.end = offset;
    }
    if (!piece.last) return;

    const int fd = f.fd.get();
    const FileAttributes& a = f.attrs;
    if (f.end != a.size && ::ftruncate(fd, a.size) != 0) fail_errno(f.entry, "setting its size");
    if (a.owner && ::fchown(fd, a.owner->first, a.owner->second) != 0)
        fail_errno(f.entry,
                   log::cat("setting its owner to ", a.owner->first, ":", a.owner->second));
    if (::fchmod(fd, a.perm) != 0) fail_errno(f.entry, "setting its mode");
    for (const auto& [name, value] : a.xattrs)
        if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0)
            fail_errno(f.entry, "setting xattr " + name);
    timespec times[2] = {a.mtime, a.mtime};
    if (::futimens(fd, times) != 0) fail_errno(f.entry, "setting its mtime");
    if (f.hash) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) fail_errno(f.entry, "inspecting it");
        std::pair<std::uint64_t, std::uint64_t> key{st.st_dev, st.st_ino};
        const bool whole = f.whole && f.hashed == a.size;
        // An inode number can come back for a later file once this one is closed: the record is
        // made while the file is still open, so the later file's record always comes after it.
        WrittenContent content;
        if (whole)
            content = {f.hash->finish(), static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec,
                       st.st_mtim.tv_nsec};
        std::lock_guard lock(written_mutex_);
        if (whole)
            (*written_)[key] = content;
        else
            written_->erase(key);  // a file whose hash is not known whole is read again
    }
    f.fd.reset();
}

}  // namespace karapace::store
