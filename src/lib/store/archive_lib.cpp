#include "store/archive_lib.hpp"

#include <dlfcn.h>

#include <string>

#include "karapace/util/error.hpp"

namespace karapace::store {

namespace {

constexpr const char* kInstallHint = "install libarchive 3.6 or newer (Debian: libarchive13)";

template <typename F>
void resolve(void* lib, const char* name, F& fn) {
    fn = reinterpret_cast<F>(::dlsym(lib, name));
    if (fn == nullptr)
        throw Error(Errc::failed, std::string("libarchive lacks ") + name, kInstallHint);
}

}  // namespace

const ArchiveLib& archive_lib() {
    static const ArchiveLib api = [] {
        void* lib = ::dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr)
            throw Error(Errc::failed, std::string("cannot load libarchive: ") + ::dlerror(),
                        kInstallHint);
        ArchiveLib a{};
        resolve(lib, "archive_entry_filetype", a.entry_filetype);
        resolve(lib, "archive_entry_free", a.entry_free);
        resolve(lib, "archive_entry_gid", a.entry_gid);
        resolve(lib, "archive_entry_hardlink", a.entry_hardlink);
        resolve(lib, "archive_entry_mtime", a.entry_mtime);
        resolve(lib, "archive_entry_mtime_is_set", a.entry_mtime_is_set);
        resolve(lib, "archive_entry_mtime_nsec", a.entry_mtime_nsec);
        resolve(lib, "archive_entry_new", a.entry_new);
        resolve(lib, "archive_entry_pathname", a.entry_pathname);
        resolve(lib, "archive_entry_perm", a.entry_perm);
        resolve(lib, "archive_entry_rdev", a.entry_rdev);
        resolve(lib, "archive_entry_set_filetype", a.entry_set_filetype);
        resolve(lib, "archive_entry_set_gid", a.entry_set_gid);
        resolve(lib, "archive_entry_set_hardlink", a.entry_set_hardlink);
        resolve(lib, "archive_entry_set_mtime", a.entry_set_mtime);
        resolve(lib, "archive_entry_set_pathname", a.entry_set_pathname);
        resolve(lib, "archive_entry_set_perm", a.entry_set_perm);
        resolve(lib, "archive_entry_set_size", a.entry_set_size);
        resolve(lib, "archive_entry_set_symlink", a.entry_set_symlink);
        resolve(lib, "archive_entry_set_uid", a.entry_set_uid);
        resolve(lib, "archive_entry_size", a.entry_size);
        resolve(lib, "archive_entry_symlink", a.entry_symlink);
        resolve(lib, "archive_entry_uid", a.entry_uid);
        resolve(lib, "archive_entry_xattr_add_entry", a.entry_xattr_add_entry);
        resolve(lib, "archive_entry_xattr_next", a.entry_xattr_next);
        resolve(lib, "archive_entry_xattr_reset", a.entry_xattr_reset);
        resolve(lib, "archive_error_string", a.error_string);
        resolve(lib, "archive_read_data_block", a.read_data_block);
        resolve(lib, "archive_read_free", a.read_free);
        resolve(lib, "archive_read_new", a.read_new);
        resolve(lib, "archive_read_next_header", a.read_next_header);
        resolve(lib, "archive_read_open", a.read_open);
        resolve(lib, "archive_read_open_fd", a.read_open_fd);
        resolve(lib, "archive_read_support_filter_all", a.read_support_filter_all);
        resolve(lib, "archive_read_support_format_tar", a.read_support_format_tar);
        resolve(lib, "archive_set_error", a.set_error);
        resolve(lib, "archive_write_close", a.write_close);
        resolve(lib, "archive_write_data", a.write_data);
        resolve(lib, "archive_write_free", a.write_free);
        resolve(lib, "archive_write_header", a.write_header);
        resolve(lib, "archive_write_new", a.write_new);
        resolve(lib, "archive_write_open2", a.write_open2);
        resolve(lib, "archive_write_set_bytes_in_last_block", a.write_set_bytes_in_last_block);
        resolve(lib, "archive_write_set_bytes_per_block", a.write_set_bytes_per_block);
        resolve(lib, "archive_write_set_format_pax_restricted", a.write_set_format_pax_restricted);
        return a;
    }();
    return api;
}

}  // namespace karapace::store
