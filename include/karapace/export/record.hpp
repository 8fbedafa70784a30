// The record of what was exported from one environment (`env/<id>/exports.json` in the store):
// every host file written, so unexport and destroy remove exactly those, and rebuild knows what
// to export again. Written atomically with an embedded checksum like the store's other records.
#pragma once

#include <string>
#include <vector>

namespace karapace::exports {

struct RecordItem {
    std::string kind;                // "app" or "bin"
    std::string name;                // desktop-file id, or the command as given
    std::string source;              // path inside the environment
    std::string target_dir;          // data home (apps) or bin directory (bins) it went to
    std::vector<std::string> files;  // host files written, launcher or wrapper first
};

// The items in the record at `path`; empty when there is none. Error(store) naming the path
// when it is unreadable or its checksum does not match.
std::vector<RecordItem> read_record(const std::string& path);
// Replaces the record (removes the file when `items` is empty).
void write_record(const std::string& path, const std::vector<RecordItem>& items);

}  // namespace karapace::exports
