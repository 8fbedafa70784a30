#include "store/archive_lib.hpp"

#include <string>

#include "karapace/util/error.hpp"
#include "util/dynamic_library.hpp"

namespace karapace::store {

namespace {

constexpr const char* kInstallHint = "install libarchive 3.6 or newer (Debian: libarchive13)";

}  // namespace

const ArchiveLib& archive_lib() {
    static const ArchiveLib api = [] {
        const DynamicLibrary lib("libarchive.so.13", "libarchive", Errc::failed, kInstallHint,
                                 kInstallHint);
        ArchiveLib a{};
        lib.resolve("archive_entry_filetype", a.entry_filetype);
        lib.resolve("archive_entry_free", a.entry_free);
        lib.resolve("archive_entry_gid", a.entry_gid);
        lib.resolve("archive_entry_hardlink", a.entry_hardlink);
        lib.resolve("archive_entry_mtime", a.entry_mtime);
        lib.resolve("archive_entry_mtime_is_set", a.entry_mtime_is_set);
        lib.resolve("archive_entry_mtime_nsec", a.entry_mtime_nsec);
        lib.resolve("archive_entry_new", a.entry_new);
        lib.resolve("archive_entry_pathname", a.entry_pathname);
        lib.resolve("archive_entry_perm", a.entry_perm);
        lib.resolve("archive_entry_rdev", a.entry_rdev);
        lib.resolve("archive_entry_set_filetype", a.entry_set_filetype);
        lib.resolve("archive_entry_set_gid", a.entry_set_gid);
        lib.resolve("archive_entry_set_hardlink", a.entry_set_hardlink);
        lib.resolve("archive_entry_set_mtime", a.entry_set_mtime);
        lib.resolve("archive_entry_set_pathname", a.entry_set_pathname);
        lib.resolve("archive_entry_set_perm", a.entry_set_perm);
        lib.resolve("archive_entry_set_size", a.entry_set_size);
        lib.resolve("archive_entry_set_symlink", a.entry_set_symlink);
        lib.resolve("archive_entry_set_uid", a.entry_set_uid);
        lib.resolve("archive_entry_size", a.entry_size);
        lib.resolve("archive_entry_symlink", a.entry_symlink);
        lib.resolve("archive_entry_uid", a.entry_uid);
        lib.resolve("archive_entry_xattr_add_entry", a.entry_xattr_add_entry);
        lib.resolve("archive_entry_xattr_next", a.entry_xattr_next);
        lib.resolve("archive_entry_xattr_reset", a.entry_xattr_reset);
        lib.resolve("archive_error_string", a.error_string);
        lib.resolve("archive_read_data", a.read_data);
        lib.resolve("archive_read_data_block", a.read_data_block);
        lib.resolve("archive_read_free", a.read_free);
        lib.resolve("archive_read_new", a.read_new);
        lib.resolve("archive_read_next_header", a.read_next_header);
        lib.resolve("archive_read_open", a.read_open);
        lib.resolve("archive_read_open_fd", a.read_open_fd);
        lib.resolve("archive_read_support_filter_all", a.read_support_filter_all);
        lib.resolve("archive_read_support_format_raw", a.read_support_format_raw);
        lib.resolve("archive_read_support_format_tar", a.read_support_format_tar);
        lib.resolve("archive_set_error", a.set_error);
        lib.resolve("archive_write_close", a.write_close);
        lib.resolve("archive_write_data", a.write_data);
        lib.resolve("archive_write_free", a.write_free);
        lib.resolve("archive_write_header", a.write_header);
        lib.resolve("archive_write_new", a.write_new);
        lib.resolve("archive_write_open2", a.write_open2);
        lib.resolve("archive_write_set_bytes_in_last_block", a.write_set_bytes_in_last_block);
        lib.resolve("archive_write_set_bytes_per_block", a.write_set_bytes_per_block);
        lib.resolve("archive_write_set_format_pax_restricted", a.write_set_format_pax_restricted);
        return a;
    }();
    return api;
}

}  // namespace karapace::store
