// JSON renderings of the Engine's result structs, shared by `--json` output and tests so every
// client sees the same field names.
#pragma once

#include <boost/json.hpp>

#include "karapace/core/engine.hpp"

namespace karapace::core {

boost::json::object to_json(const EnvSummary& s);
boost::json::object to_json(const GpuDetails& g);
boost::json::object to_json(const EnvDetails& d);
boost::json::object to_json(const BuildResult& r);
boost::json::object to_json(const DiffReport& r);
boost::json::object to_json(const ExportedItem& i);
boost::json::object to_json(const ExportReport& r);
boost::json::object to_json(const SnapshotInfo& s);
boost::json::object to_json(const GcSummary& s);
boost::json::object to_json(const VerifySummary& s);
boost::json::object to_json(const DoctorCheck& c);
boost::json::array to_json(const std::vector<EnvSummary>& list);
boost::json::array to_json(const std::vector<SnapshotInfo>& list);
boost::json::array to_json(const std::vector<DoctorCheck>& list);
boost::json::array to_json(const std::vector<ExportedItem>& list);

}  // namespace karapace::core
