// Engine values <-> D-Bus values. Records that clients iterate are structs (`a(sssssssu)`);
// records that will grow are `a{sv}` maps whose keys are documented in docs/dbus.md.
// sdbus values are not thread-safe: call these on the bus loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/Types.h>

#include "karapace/core/engine.hpp"

namespace karapace::dbus {

using ResultMap = std::map<std::string, sdbus::Variant>;
// (env_id, short_id, name, state, base_image, created, updated, sessions)
using EnvRecord = sdbus::Struct<std::string, std::string, std::string, std::string, std::string,
                                std::string, std::string, std::uint32_t>;
// (id, created, size, files)
using SnapshotRecord = sdbus::Struct<std::string, std::string, std::uint64_t, std::uint64_t>;

// (kind, name, source, files) of an exported application or command
using ExportRecord = sdbus::Struct<std::string, std::string, std::string, std::vector<std::string>>;

EnvRecord encode_summary(const core::EnvSummary& env);
std::vector<ExportRecord> encode_exports(const std::vector<core::ExportedItem>& items);
ResultMap encode_details(const core::EnvDetails& env);
ResultMap encode_build(const core::BuildResult& result);
ResultMap encode_commit(const std::string& env_id, const core::SnapshotInfo& snapshot);
SnapshotRecord encode_snapshot(const core::SnapshotInfo& snapshot);
ResultMap encode_gc(const core::GcSummary& summary);
ResultMap encode_push(const core::PushResult& result);
ResultMap encode_pull(const core::PullResult& result);
ResultMap encode_verify(const core::VerifySummary& summary);

// Build/Rebuild options: name (s), locked (b), offline (b), require_pinned_image (b). An unknown
// key or a value of the wrong type is Error(usage) naming it.
// The job option `notify` (b, default true: a desktop notification when the job ends), removed
// from `options` so that the kind's own decoder sees only its options.
bool take_notify_option(ResultMap& options);
core::BuildOptions decode_build_options(const std::string& manifest_path, const ResultMap& options);
// Push options: tag (s), remote (s). Error(usage) for other keys or types.
core::PushOptions decode_push_options(const std::string& env, const ResultMap& options);
// Pull options: remote (s), name (s).
core::PullOptions decode_pull_options(const std::string& reference, const ResultMap& options);
// Export options: bin_dir (s, absolute).
void decode_export_options(const ResultMap& options, core::ExportOptions& out);

}  // namespace karapace::dbus
