#include "store_records.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace karapace::dbus {

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

}  // namespace karapace::dbus
