#include "store_records.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <system_error>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"

namespace karapace::dbus {

namespace {

namespace json = boost::json;

// 1: objects with the summary as `karapace list --json` writes it; 2: arrays (see load()).
constexpr int kKeptFormat = 2;
// Larger than any file of summaries a store can have (a few hundred bytes per environment).
constexpr std::size_t kKeptLimit = std::size_t{64} << 20;

UniqueFd open_directory(const std::string& path) {
    return UniqueFd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

std::int64_t nanoseconds(const struct timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// What lstat says of `path` (below `dir`), and whether it changed within the last two seconds.
FileStamp describe(int dir, const std::string& path, std::int64_t now, bool& recent) {
    struct stat st {};
    if (dir < 0 || ::fstatat(dir, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return {};
    FileStamp f{st.st_dev,
                st.st_ino,
                static_cast<std::uint64_t>(st.st_size),
                nanoseconds(st.st_mtim),
                nanoseconds(st.st_ctim),
                true};
    if (std::max(f.mtime, f.ctime) > now - std::int64_t{2000000000}) recent = true;
    return f;
}

// A stamp in the kept file: [dev, ino, size, mtime, ctime], or [] for a file that was not there.
json::array stamp_json(const FileStamp& f) {
    if (!f.present) return {};
    return {f.dev, f.ino, f.size, f.mtime, f.ctime};
}

FileStamp stamp_from(const json::value& v) {
    const auto& a = v.as_array();
    if (a.empty()) return {};
    return {a.at(0).to_number<std::uint64_t>(), a.at(1).to_number<std::uint64_t>(),
            a.at(2).to_number<std::uint64_t>(), a.at(3).to_number<std::int64_t>(),
            a.at(4).to_number<std::int64_t>(),  true};
}

}  // namespace

void EngineRecords::begin() {
    // Made again by the pass's first read, and the directories opened again by its first stamp,
    // so that a store replaced since is not read from the old one; a warm pass, which reads and
    // stamps nothing, makes and opens nothing.
    engine_.reset();
    dirs_open_ = false;
}

std::vector<std::string> EngineRecords::record_files() {
    std::vector<std::string> files;
    std::error_code ec;
    // No directory, no records: the engine lists nothing either.
    for (std::filesystem::directory_iterator it(layout_.metadata_dir(), ec), end; !ec && it != end;
         it.increment(ec)) {
        auto name = it->path().filename().string();
        // Temporary files of atomic writes, renamed into place when complete.
        if (!name.starts_with(".tmp")) files.push_back(std::move(name));
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string EngineRecords::record_path(const std::string& file) {
    return layout_.metadata_dir() + "/" + file;
}

std::optional<core::EnvSummary> EngineRecords::load(const std::string& env_id) {
    if (!engine_) engine_.emplace(options_());
    return engine_->summary(env_id);
}

std::optional<RecordStamp> EngineRecords::stamp(const std::string& env_id) {
    auto id = store::EnvId::from_hex(env_id);
    if (!id) return std::nullopt;
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    if (!dirs_open_) {
        // Stamps look up names below these (a thousand records are two thousand lookups).
        metadata_fd_ = open_directory(layout_.metadata_dir());
        envs_fd_ = open_directory(layout_.envs_dir());
        dirs_open_ = true;
    }
    bool recent = false;
    RecordStamp s;
    s.record = describe(metadata_fd_.get(), env_id + ".json", nanoseconds(now), recent);
    if (!s.record.present) return std::nullopt;
    s.sessions = describe(envs_fd_.get(), env_id + "/sessions", nanoseconds(now), recent);
    s.settled = !recent;
    return s;
}

StoreKeptSummaries::StoreKeptSummaries(const std::string& store_root)
    : path_(store::Layout(store_root).store_dir() + "/list-cache.json") {}

std::map<std::string, KeptSummary> StoreKeptSummaries::load() {
    std::map<std::string, KeptSummary> out;
    try {
        if (::access(path_.c_str(), F_OK) != 0) return out;
        const auto doc = json::parse(read_file_limited(path_, kKeptLimit)).as_object();
        if (doc.at("format").as_int64() != kKeptFormat) return out;
        // One array per environment (no keys to look up: a thousand are parsed on the first call
        // after a start): the summary's fields in EnvSummary's order, then the two stamps.
        for (const auto& item : doc.at("environments").as_array()) {
            const auto& a = item.as_array();
            auto text = [&](std::size_t i) { return std::string(a.at(i).as_string()); };
            KeptSummary k;
            k.summary.env_id = text(0);
            k.summary.short_id = text(1);
            k.summary.name = text(2);
            k.summary.state = text(3);
            k.summary.base_image = text(4);
            k.summary.created = text(5);
            k.summary.updated = text(6);
            k.summary.sessions = a.at(7).to_number<std::size_t>();
            k.stamp.record = stamp_from(a.at(8));
            k.stamp.sessions = stamp_from(a.at(9));
            k.stamp.settled = true;
            out.emplace(k.summary.env_id + ".json", std::move(k));
        }
    } catch (const std::exception& e) {
        log::debug("ListEnvironments: ignoring the kept summaries in ", path_, ": ", e.what());
        out.clear();
    }
    return out;
}

void StoreKeptSummaries::save(const std::map<std::string, KeptSummary>& summaries) {
    json::array envs;
    envs.reserve(summaries.size());
    for (const auto& [file, k] : summaries) {
        const auto& e = k.summary;
        envs.push_back(json::array{e.env_id, e.short_id, e.name, e.state, e.base_image, e.created,
                                   e.updated, e.sessions, stamp_json(k.stamp.record),
                                   stamp_json(k.stamp.sessions)});
    }
    const json::object doc{{"format", kKeptFormat}, {"environments", std::move(envs)}};
    // A cache: a crash leaves the old file or none, never a torn one, and needs no fsync.
    write_file_atomic(path_, json::serialize(doc) + "\n", 0600, Sync::none);
}

StoreEnvList::StoreEnvList(const std::string& store_root,
                           std::function<core::EngineOptions()> options)
    : watch(store_root),
      records(store_root, std::move(options)),
      kept(store_root),
      cache(watch, records, &kept) {}

StoreEnvList::~StoreEnvList() {
    if (ahead_.joinable()) ahead_.join();
}

void StoreEnvList::read_ahead() {
    if (ahead_.joinable()) return;
    ahead_ = std::thread([this] {
        try {
            auto envs = cache.list();
            // A call waiting for the read answers first, and watches after its answer.
            if (!cache.list_waiting()) cache.watch_unwatched();
            log::debug("ListEnvironments: read ahead of the first call (", envs->size(),
                       " environments)");
        } catch (const std::exception& e) {
            log::debug("ListEnvironments: reading ahead: ", e.what());
        }
    });
}

}  // namespace karapace::dbus
