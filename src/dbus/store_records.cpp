#include "store_records.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <system_error>

#include "karapace/core/report_json.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"

namespace karapace::dbus {

namespace {

namespace json = boost::json;

constexpr int kKeptFormat = 1;
// Larger than any file of summaries a store can have (a few hundred bytes per environment).
constexpr std::size_t kKeptLimit = std::size_t{64} << 20;

std::int64_t nanoseconds(const struct timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// lstat's description of `path` for a stamp, and whether it changed within the last two seconds.
std::string describe(const std::string& path, std::int64_t now, bool& recent) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "-";
    const auto changed = std::max(nanoseconds(st.st_mtim), nanoseconds(st.st_ctim));
    if (changed > now - std::int64_t{2000000000}) recent = true;
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(nanoseconds(st.st_mtim)) + ":" +
           std::to_string(nanoseconds(st.st_ctim));
}

}  // namespace

void EngineRecords::begin() {
    engine_.reset();
    engine_.emplace(options_());
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
    if (!engine_) begin();
    return engine_->summary(env_id);
}

std::optional<RecordStamp> EngineRecords::stamp(const std::string& env_id) {
    auto id = store::EnvId::from_hex(env_id);
    if (!id) return std::nullopt;
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    bool recent = false;
    RecordStamp s;
    s.record = describe(record_path(env_id + ".json"), nanoseconds(now), recent);
    if (s.record == "-") return std::nullopt;
    s.sessions = describe(layout_.sessions_dir(*id), nanoseconds(now), recent);
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
        for (const auto& item : doc.at("environments").as_array()) {
            const auto& o = item.as_object();
            // The summary as `karapace list --json` writes one (core::to_json).
            const auto& summary = o.at("summary").as_object();
            auto text = [](const json::object& from, const char* key) {
                const auto& v = from.at(key);
                return v.is_null() ? std::string() : std::string(v.as_string());
            };
            KeptSummary k;
            k.stamp.record = text(o, "record_stamp");
            k.stamp.sessions = text(o, "sessions_stamp");
            k.stamp.settled = true;
            k.summary.env_id = text(summary, "env_id");
            k.summary.short_id = text(summary, "short_id");
            k.summary.name = text(summary, "name");
            k.summary.state = text(summary, "state");
            k.summary.base_image = text(summary, "base_image");
            k.summary.created = text(summary, "created");
            k.summary.updated = text(summary, "updated");
            k.summary.sessions = summary.at("sessions").to_number<std::size_t>();
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
    for (const auto& [file, k] : summaries) {
        envs.push_back(json::object{{"record_stamp", k.stamp.record},
                                    {"sessions_stamp", k.stamp.sessions},
                                    {"summary", core::to_json(k.summary)}});
    }
    const json::object doc{{"format", kKeptFormat}, {"environments", std::move(envs)}};
    // A cache: a crash leaves the old file or none, never a torn one, and needs no fsync.
    write_file_atomic(path_, json::serialize(doc) + "\n", 0600, Sync::none);
}

}  // namespace karapace::dbus
