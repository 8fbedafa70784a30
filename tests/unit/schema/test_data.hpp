// Where the schema tests find their data: tests/unit/schema/data/ under KARAPACE_SOURCE_ROOT.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace schema_test {

inline std::string source_root() {
    const char* root = std::getenv("KARAPACE_SOURCE_ROOT");
    return root != nullptr ? root : ".";
}

inline std::string data_dir() { return source_root() + "/tests/unit/schema/data"; }

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("test data missing: " + path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline std::string data(const std::string& relative) { return slurp(data_dir() + "/" + relative); }

}  // namespace schema_test
