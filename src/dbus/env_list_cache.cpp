#include "env_list_cache.hpp"

#include <exception>
#include <utility>

#include "karapace/schema/identity.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::dbus {

std::optional<std::string> env_id_of_record_file(const std::string& file) {
    constexpr std::string_view suffix = ".json";
    if (!file.ends_with(suffix)) return std::nullopt;
    auto stem = file.substr(0, file.size() - suffix.size());
    if (!schema::EnvId::valid(stem)) return std::nullopt;
    return stem;
}

EnvListCache::Summaries EnvListCache::list() {
    ++waiting_;
    std::lock_guard lock(mutex_);
    --waiting_;
    records_.begin();
    auto changes = changes_.take();
    {
        std::lock_guard pending(pending_mutex_);
        changes.everything = changes.everything || pending_all_;
        changes.envs.merge(pending_);
        pending_.clear();
        pending_all_ = false;
    }
    if (changes.store_lost) store_watched_ = false;
    if (!store_watched_) {
        // Whatever was kept may have changed while nothing watched it.
        store_watched_ = changes_.watch_store();
        loaded_ = false;
    }
    bool read_again = false;
    if (!loaded_ || changes.everything) {
        reload_all();
        read_again = true;
        loaded_ = store_watched_;
        // Kept after the answer (watch_unwatched()), or when the cache ends.
    } else {
        auto again = std::move(changes.envs);
        for (const auto& [file, entry] : entries_) {
            // Most entries: read again only on an event.
            if (entry.current()) continue;
            auto id = env_id_of_record_file(file);
            if (!id) continue;
            if (entry.watch_later && !entry.live()) {
                // Read by an earlier call and not watched yet: its files must be the ones read.
                if (!files_unchanged(*id, entry)) again.insert(*id);
            } else {
                again.insert(*id);  // not watched, or running
            }
        }
        for (const auto& id : again)
            reload(id);
        read_again = !again.empty();
    }

    const bool new_answer = read_again || !answer_;
    std::vector<core::EnvSummary> out;
    if (new_answer) out.reserve(entries_.size());
    for (const auto& [file, entry] : entries_) {
        if (!entry.summary)
            log::warn("skipping unreadable environment record ", records_.record_path(file), ": ",
                      entry.error, " (karapace verify-store reports it)");
        else if (new_answer)
            out.push_back(*entry.summary);
    }
    if (new_answer) answer_ = std::make_shared<const std::vector<core::EnvSummary>>(std::move(out));
    return answer_;
}

std::optional<EnvListCache::Summaries> EnvListCache::list_if_current() {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || !answer_ || !loaded_ || !store_watched_ || watch_later_)
        return std::nullopt;
    {
        std::lock_guard pending(pending_mutex_);
        if (pending_all_ || !pending_.empty()) return std::nullopt;
    }
    for (const auto& [file, entry] : entries_) {
        // Unreadable ones are reported by list(), the others read or checked by it.
        if (!entry.summary || !entry.current()) return std::nullopt;
    }
    auto changes = changes_.take();
    if (changes.everything || changes.store_lost || !changes.envs.empty()) {
        if (changes.store_lost) store_watched_ = false;
        std::lock_guard pending(pending_mutex_);
        pending_all_ = pending_all_ || changes.everything;
        pending_.merge(changes.envs);
        return std::nullopt;
    }
    return answer_;
}

bool EnvListCache::files_unchanged(const std::string& env_id, const Entry& entry) {
    auto now = records_.stamp(env_id);
    return entry.stamp && now && now->same_files(*entry.stamp);
}

void EnvListCache::watch_unwatched() {
    std::lock_guard lock(mutex_);
    if (watch_later_) {
        for (auto& [file, entry] : entries_) {
            if (!entry.watch_later) continue;
            entry.watch_later = false;
            auto id = env_id_of_record_file(file);
            if (!id || !store_watched_ || !changes_.watch_env(*id)) continue;
            // Read before the watch: the files the read saw (a settled stamp, read()) must
            // still be there, or a change in between would go unreported (the next call reads it).
            entry.watched = files_unchanged(*id, entry);
        }
    }
    watch_later_ = false;
    if (changed_) keep();
}

void EnvListCache::invalidate(const std::string& env_id) {
    std::lock_guard pending(pending_mutex_);
    pending_.insert(env_id);
}

void EnvListCache::invalidate_all() {
    std::lock_guard pending(pending_mutex_);
    pending_all_ = true;
}

EnvListCache::~EnvListCache() {
    try {
        if (changed_) keep();
    } catch (...) {
        // Only a cache for the next run: nothing to do about it now.
    }
}

void EnvListCache::keep() {
    if (kept_ == nullptr) return;
    std::map<std::string, KeptSummary> out;
    for (const auto& [file, entry] : entries_) {
        // An environment with sessions is read on every call anyway.
        if (!entry.summary || !entry.stamp || !entry.stamp->settled || entry.live()) continue;
        out.emplace(file, KeptSummary{*entry.stamp, *entry.summary});
    }
    try {
        kept_->save(out);
        changed_ = false;
    } catch (const std::exception& e) {
        log::debug("ListEnvironments: cannot keep the summaries: ", e.what());
    }
}

EnvListCache::Entry EnvListCache::read(const std::string& file, const KeptSummary* kept,
                                       bool watch_now) {
    Entry entry;
    auto id = env_id_of_record_file(file);
    if (!id) {
        // The metadata directory's watch reports the file going away.
        entry.error =
            "unexpected file " + records_.record_path(file) + " in the metadata directory";
        entry.watched = store_watched_;
        return entry;
    }
    try {
        // Watched before it is read, so that a change after the read is reported, not lost. A
        // full read may leave the watch to watch_unwatched(), which takes the stamp again once
        // watching: only a settled stamp can vouch that nothing changed in between.
        if (!watch_now && store_watched_) {
            entry.stamp = records_.stamp(*id);
            entry.watch_later = entry.stamp && entry.stamp->settled;
            if (entry.watch_later) watch_later_ = true;
        }
        if (!entry.watch_later) {
            entry.watched = store_watched_ && changes_.watch_env(*id);
            entry.stamp = records_.stamp(*id);
        }
        if (kept && entry.stamp && entry.stamp->same_files(kept->stamp) &&
            kept->summary.sessions == 0) {
            entry.summary = kept->summary;
            entry.from_kept = true;
            return entry;
        }
        changed_ = true;
        entry.summary = records_.load(*id);
    } catch (const std::exception& e) {
        entry.error = e.what();
        if (entry.error.empty()) entry.error = "cannot be read";
    }
    return entry;
}

void EnvListCache::reload_all() {
    log::debug("ListEnvironments: reading every record",
               store_watched_ ? "" : " (the store is not watched)");
    std::map<std::string, KeptSummary> kept;
    if (kept_ != nullptr && !kept_loaded_ && store_watched_) {
        kept_loaded_ = true;
        kept = kept_->load();
    }
    std::size_t reused = 0;
    std::map<std::string, Entry> fresh;
    for (const auto& file : records_.record_files()) {
        auto k = kept.find(file);
        auto entry = read(file, k == kept.end() ? nullptr : &k->second, false);
        if (entry.from_kept) ++reused;
        if (entry.summary || !entry.error.empty()) fresh.emplace(file, std::move(entry));
    }
    if (store_watched_) {
        for (const auto& [file, entry] : entries_) {
            if (fresh.contains(file)) continue;
            if (auto id = env_id_of_record_file(file)) changes_.unwatch_env(*id);
        }
    }
    entries_ = std::move(fresh);
    if (reused > 0)
        log::debug("ListEnvironments: ", reused, " of ", entries_.size(),
                   " summaries kept from the service's last run");
}

void EnvListCache::reload(const std::string& env_id) {
    log::debug("ListEnvironments: reading ", env_id, " again");
    auto file = env_id + ".json";
    auto entry = read(file, nullptr, true);
    if (entry.summary || !entry.error.empty()) {
        entries_[file] = std::move(entry);
        return;
    }
    // Gone (destroyed).
    if (store_watched_) changes_.unwatch_env(env_id);
    entries_.erase(file);
}

}  // namespace karapace::dbus
