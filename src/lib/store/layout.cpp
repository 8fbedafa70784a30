#include "karapace/store/layout.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "karapace/store/faults.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "store/fsutil.hpp"

namespace karapace::store {

namespace {
std::string current_dir() {
    std::error_code ec;
    auto p = std::filesystem::current_path(ec);
    return ec ? std::string("/") : p.string();
}
}  // namespace

Layout::Layout(const std::string& root)
    : root_(!root.empty() && root.front() == '/' ? lexically_absolute(root, "/")
                                                 : lexically_absolute(root, current_dir())) {
    while (root_.size() > 1 && root_.back() == '/')
        root_.pop_back();
}

std::string Layout::resolve(std::string_view rel) const {
    auto bad = [&](const char* why) -> Error {
        return Error(
            Errc::store,
            "path '" + std::string(rel) + "' is not inside the store " + root_ + ": " + why,
            "the record is corrupt or hostile; run `karapace verify-store`");
    };
    if (rel.empty()) throw bad("empty");
    if (rel.front() == '/') throw bad("absolute");
    std::size_t pos = 0;
    while (pos <= rel.size()) {
        auto slash = rel.find('/', pos);
        if (slash == std::string_view::npos) slash = rel.size();
        auto comp = rel.substr(pos, slash - pos);
        if (comp.empty() || comp == "." || comp == "..") throw bad("not a plain relative path");
        pos = slash + 1;
    }
    return root_ + "/" + std::string(rel);
}

std::string Layout::relative(const std::string& abs) const {
    std::string norm = lexically_absolute(abs, root_);
    if (norm.size() <= root_.size() + 1 || norm.compare(0, root_.size(), root_) != 0 ||
        norm[root_.size()] != '/')
        throw Error(Errc::store, "path " + abs + " is not inside the store " + root_);
    return norm.substr(root_.size() + 1);
}

int read_format_version(const Layout& layout) {
    std::string text;
    try {
        text = read_file_limited(layout.version_file(), 4096);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) return 0;
        throw;
    }
    boost::json::value v;
    try {
        v = json::parse(text, layout.version_file());
    } catch (const Error& e) {
        throw Error(Errc::store, e.what(), "the version file is damaged; run `karapace migrate`");
    }
    const auto* o = v.if_object();
    const auto* n = o != nullptr ? o->if_contains("format_version") : nullptr;
    if (n == nullptr || !n->is_int64())
        throw Error(Errc::store, layout.version_file() + " has no integer format_version",
                    "run `karapace migrate` to see what the store holds");
    return static_cast<int>(n->as_int64());
}

namespace {

void make_layout_dirs(const Layout& l) {
    for (const auto& d :
         {l.store_dir(), l.wal_dir(), l.objects_dir(), l.layers_dir(), l.metadata_dir(),
          l.names_dir(), l.staging_dir(), l.envs_dir(), l.unpacked_layers_dir(), l.images_dir()})
        make_dirs(d, 0700);
}

// Nothing in store/ but what a store being made, or no store, may hold: the locks, the WAL
// directory, temporary files, and the D-Bus service's kept summaries (list-cache.json, a cache
// it writes whenever store/ exists, also while another process is making the store).
bool store_dir_is_blank(const Layout& l) {
    for (const auto& name : list_dir(l.store_dir()))
        if (name != "lock" && name != "create-lock" && name != "wal" && name != "list-cache.json" &&
            !is_temp_name(name))
            return false;
    return true;
}

// The creation lock (store/create-lock), exclusively: a process making a new store holds it
// from the first directory to the version file, which it writes last. Waits while another
// holds it; an empty descriptor where it cannot be had (no store/ directory, a read-only or
// foreign one), and the caller goes on without it: it cannot make a store there either.
UniqueFd creation_lock(const Layout& l) {
    UniqueFd fd(::open(l.create_lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) {
        if (errno == ENOENT || errno == EROFS || errno == EACCES || errno == EPERM) return fd;
        throw_errno(Errc::store, "cannot open " + l.create_lock_file());
    }
    while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw_errno(Errc::store, "cannot lock " + l.create_lock_file());
    return fd;
}

}  // namespace

void open_layout(const Layout& layout, OpenMode mode) {
    auto holds_data = [&] {
        return Error(Errc::store, layout.version_file() + " is missing but the store holds data",
                     "run `karapace migrate` to see what the store at " + layout.root() + " holds");
    };
    int version = read_format_version(layout);
    // Another process may be making the store right now: it holds the creation lock until it
    // has written the version file, last. A store/ directory that holds more than a blank one
    // is read again once that lock is free, before it is called damaged.
    UniqueFd creating;
    if (version == 0 && lstat_path(layout.store_dir()) && !store_dir_is_blank(layout)) {
        creating = creation_lock(layout);
        version = read_format_version(layout);
    }
    if (version == 0) {
        bool exists = lstat_path(layout.store_dir()).has_value();
        if (exists && !store_dir_is_blank(layout)) throw holds_data();
        if (mode == OpenMode::existing)
            throw Error(Errc::not_found, "there is no store at " + layout.root(),
                        "build an environment first, or pass --store");
        make_dirs(layout.store_dir(), 0700);
        if (!creating) creating = creation_lock(layout);
        // Another process may have made it while this one waited for the lock.
        version = read_format_version(layout);
    }
    if (version == 0) {
        if (!store_dir_is_blank(layout)) throw holds_data();
        make_layout_dirs(layout);
        boost::json::object v;
        v["format_version"] = format_version;
        fault_point("layout-init.before-version");
        write_file_atomic(layout.version_file(), json::pretty(v), 0644);
        return;
    }
    creating.reset();
    // Format 3 -> 4 changed only the id map of unprivileged callers: a store root wrote (whose
    // ids mean themselves) is format 4 as it is.
    if (version == 3 && format_version == 4) {
        auto st = lstat_path(layout.version_file());
        if (st && st->st_uid == 0 && ::geteuid() == 0 &&
            !lstat_path(layout.store_dir() + "/migrate-owners.json")) {
            boost::json::object v;
            v["format_version"] = format_version;
            write_file_atomic(layout.version_file(), json::pretty(v), 0644);
            version = format_version;
        }
    }
    if (version == 3 && format_version == 4)
        throw Error(Errc::store,
                    "the store at " + layout.root() +
                        " has format 3, whose id map gives container root your own id",
                    "run `karapace migrate --apply` (it changes the owners of the store's trees "
                    "in place, so sudo works inside; `karapace migrate` shows what it will do)");
    if (version != format_version) {
        std::string which = version < format_version ? "an older" : "a newer";
        throw Error(Errc::store,
                    "the store at " + layout.root() + " has format " + std::to_string(version) +
                        " (" + which + " Karapace); this version reads format " +
                        std::to_string(format_version),
                    version < format_version
                        ? "run `karapace migrate` to see what it holds and what you can do"
                        : "use the newer Karapace that wrote it, or another --store");
    }
    if (mode == OpenMode::create) make_layout_dirs(layout);
}

}  // namespace karapace::store
