// Hand-made tar archives for the unpack tests, written with libarchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <string>
#include <vector>

namespace karapace::store::test {

struct TarEntry {
    std::string path;
    unsigned type = AE_IFREG;
    std::string data;
    std::string link;      // symlink target
    std::string hardlink;  // hardlink target
    unsigned perm = 0644;
    dev_t rdev = 0;
    long uid = 0, gid = 0;
    long mtime = -1;  // seconds; libarchive's default (none) when negative
};

inline la_ssize_t tar_append(archive*, void* buf, const void* data, size_t len) {
    static_cast<std::string*>(buf)->append(static_cast<const char*>(data), len);
    return static_cast<la_ssize_t>(len);
}

// `filter` is an ARCHIVE_FILTER_* code; returns "" when libarchive cannot write it.
inline std::string make_tar(const std::vector<TarEntry>& entries,
                            int filter = ARCHIVE_FILTER_NONE) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (filter != ARCHIVE_FILTER_NONE && archive_write_add_filter(a, filter) != ARCHIVE_OK) {
        archive_write_free(a);
        return "";
    }
    archive_write_open2(a, &out, nullptr, &tar_append, nullptr, nullptr);
    for (const auto& e : entries) {
        archive_entry* x = archive_entry_new();
        archive_entry_set_pathname(x, e.path.c_str());
        archive_entry_set_filetype(x, e.type);
        archive_entry_set_perm(x, e.perm);
        archive_entry_set_uid(x, e.uid);
        archive_entry_set_gid(x, e.gid);
        if (!e.link.empty()) archive_entry_set_symlink(x, e.link.c_str());
        if (!e.hardlink.empty()) archive_entry_set_hardlink(x, e.hardlink.c_str());
        if (e.type == AE_IFCHR || e.type == AE_IFBLK) archive_entry_set_rdev(x, e.rdev);
        if (e.mtime >= 0) archive_entry_set_mtime(x, e.mtime, 0);
        archive_entry_set_size(x, static_cast<la_int64_t>(e.data.size()));
        archive_write_header(a, x);
        if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
        archive_entry_free(x);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

struct ListedEntry {
    std::string path;
    unsigned type;
    std::string hardlink;
};

// Entry names and types of an in-memory tar.
inline std::vector<ListedEntry> list_tar(const std::string& tar) {
    std::vector<ListedEntry> out;
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_open_memory(a, tar.data(), tar.size());
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char* h = archive_entry_hardlink(e);
        out.push_back({archive_entry_pathname(e), archive_entry_filetype(e), h ? h : ""});
    }
    archive_read_free(a);
    return out;
}

}  // namespace karapace::store::test
