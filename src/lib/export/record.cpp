#include "karapace/export/record.hpp"

#include <unistd.h>

#include <cerrno>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "store/record.hpp"

namespace karapace::exports {

namespace bj = boost::json;

namespace {
constexpr std::int64_t record_format = 1;
constexpr std::size_t max_record_bytes = 4u << 20;

std::vector<std::string> strings_at(const bj::object& o, const char* key, const std::string& path) {
    std::vector<std::string> out;
    for (const auto& v : json::get_array(o, key, path)) {
        if (!v.is_string())
            throw Error(Errc::store, std::string("an entry of ") + key + " is not a string");
        out.emplace_back(v.as_string());
    }
    return out;
}

bj::array string_array(const std::vector<std::string>& list) {
    bj::array a;
    for (const auto& s : list)
        a.emplace_back(s);
    return a;
}
}  // namespace

std::vector<RecordItem> read_record(const std::string& path) {
    std::string text;
    try {
        text = read_file_limited(path, max_record_bytes);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) return {};
        throw;
    }
    auto o = store::open_record(text, path);
    std::vector<RecordItem> items;
    try {
        if (json::get_int(o, "format", path) != record_format)
            throw Error(Errc::store, "unknown format");
        for (const auto& v : json::get_array(o, "items", path)) {
            if (!v.is_object()) throw Error(Errc::store, "an item is not an object");
            const auto& io = v.as_object();
            RecordItem item;
            item.kind = json::get_string(io, "kind", path);
            item.name = json::get_string(io, "name", path);
            item.source = json::get_string(io, "source", path);
            item.target_dir = json::get_string(io, "target_dir", path);
            item.files = strings_at(io, "files", path);
            if (item.kind == "service") {
                const auto& so = json::get_object(io, "service", path);
                item.service.command = strings_at(so, "command", path);
                item.service.notify = json::get_bool(so, "notify", path);
                item.service.restart = json::get_string(so, "restart", path);
                item.service.sockets = strings_at(so, "sockets", path);
            }
            if (item.kind != "app" && item.kind != "bin" && item.kind != "service")
                throw Error(Errc::store, "unknown item kind '" + item.kind + "'");
            items.push_back(std::move(item));
        }
    } catch (const Error& e) {
        throw Error(Errc::store, "corrupt export record " + path + ": " + e.what(),
                    "remove the exported launchers by hand and delete the record, then export "
                    "again");
    }
    return items;
}

void write_record(const std::string& path, const std::vector<RecordItem>& items) {
    if (items.empty()) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw_errno(Errc::store, "cannot remove " + path);
        fsync_dir(parent_dir(path));
        return;
    }
    bj::array arr;
    for (const auto& i : items) {
        bj::object item{{"kind", i.kind},
                        {"name", i.name},
                        {"source", i.source},
                        {"target_dir", i.target_dir},
                        {"files", string_array(i.files)}};
        if (i.kind == "service")
            item["service"] = bj::object{{"command", string_array(i.service.command)},
                                         {"notify", i.service.notify},
                                         {"restart", i.service.restart},
                                         {"sockets", string_array(i.service.sockets)}};
        arr.emplace_back(std::move(item));
    }
    bj::object o;
    o["format"] = record_format;
    o["items"] = std::move(arr);
    write_file_atomic(path, store::seal_record(std::move(o)), 0644);
}

}  // namespace karapace::exports
