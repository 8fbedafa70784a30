#include "karapace/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"

namespace karapace {

std::string parent_dir(const std::string& path) {
    auto pos = path.find_last_of('/');
    if (pos == std::string::npos) return ".";
    if (pos == 0) return "/";
    return path.substr(0, pos);
}

void fsync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno(Errc::failed, "cannot open directory " + dir);
    if (::fsync(fd.get()) != 0 && errno != EINVAL)
        throw_errno(Errc::failed, "cannot fsync directory " + dir);
}

AtomicFile::AtomicFile(std::string path, mode_t mode) : path_(std::move(path)) {
    auto pos = path_.find_last_of('/');
    std::string base = pos == std::string::npos ? path_ : path_.substr(pos + 1);
    temp_ = parent_dir(path_) + "/.tmp-" + base + "-XXXXXX";
    std::vector<char> tmpl(temp_.begin(), temp_.end());
    tmpl.push_back('\0');
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) throw_errno(Errc::failed, "cannot create a temporary file next to " + path_);
    temp_.assign(tmpl.data());
    fd_.reset(fd);
    if (::fchmod(fd, mode) != 0) throw_errno(Errc::failed, "cannot set the mode of " + temp_);
}

AtomicFile::~AtomicFile() {
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view data) { write_all(fd_.get(), data, temp_); }

void AtomicFile::commit(Sync sync) {
    if (sync == Sync::durable && ::fsync(fd_.get()) != 0)
        throw_errno(Errc::failed, "cannot fsync " + temp_);
    fd_.reset();
    fault_point("atomic-file.before-rename");
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
        throw_errno(Errc::failed, "cannot rename " + temp_ + " to " + path_);
    committed_ = true;
    if (sync == Sync::durable) fsync_dir(parent_dir(path_));
}

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode, Sync sync) {
    AtomicFile f(path, mode);
    f.write(data);
    f.commit(sync);
}

}  // namespace karapace
