// The record of what was exported from one environment (`env/<id>/exports.json` in the store):
// every host file written, so unexport and destroy remove exactly those, and rebuild knows what
// to export again. Written atomically with an embedded checksum like the store's other records.
#pragma once

#include <string>
#include <vector>

#include "karapace/export/service_spec.hpp"

namespace karapace::exports {

struct RecordItem {
    std::string kind;                // "app", "bin" or "service"
    std::string name;                // desktop-file id, the command as given, or the service's name
    std::string source;              // path inside the environment (a service's command)
    std::string target_dir;          // data home (apps), bin directory (bins) or unit directory
    std::vector<std::string> files;  // host files written, launcher, wrapper or unit first
    ServiceSpec service;             // services only
};

// The items in the record at `path`; empty when there is none. Error(store) naming the path
// when it is unreadable or its checksum does not match.
std::vector<RecordItem> read_record(const std::string& path);
// Replaces the record (removes the file when `items` is empty).
void write_record(const std::string& path, const std::vector<RecordItem>& items);

}  // namespace karapace::exports
