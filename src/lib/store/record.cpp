#include "store/record.hpp"

#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"

namespace karapace::store {

std::string seal_record(boost::json::object record) {
    record.erase("checksum");
    Digest sum = sha256(json::compact(record));
    record["checksum"] = sum.str();
    return json::pretty(record);
}

boost::json::object open_record(std::string_view text, const std::string& path) {
    boost::json::value v;
    try {
        v = json::parse(text, path);
    } catch (const Error& e) {
        throw Error(Errc::store, std::string("corrupt record ") + e.what(),
                    "run `karapace verify-store`; restore the file from a backup or remove it");
    }
    if (!v.is_object())
        throw Error(Errc::store, "corrupt record " + path + ": not a JSON object",
                    "run `karapace verify-store`");
    auto& o = v.as_object();
    auto it = o.find("checksum");
    if (it == o.end() || !it->value().is_string())
        throw Error(Errc::store, "corrupt record " + path + ": no checksum",
                    "the file was edited or truncated; run `karapace verify-store`");
    std::string stored(it->value().as_string());
    o.erase(it);
    std::string actual = sha256(json::compact(o)).str();
    if (actual != stored)
        throw Error(Errc::store,
                    "corrupt record " + path + ": checksum mismatch (stored " + stored +
                        ", computed " + actual + ")",
                    "the file was modified outside karapace; run `karapace verify-store`");
    return std::move(o);
}

}  // namespace karapace::store
