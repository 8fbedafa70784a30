#include "karapace/util/json.hpp"

#include "karapace/util/error.hpp"

namespace karapace::json {

std::string compact(const bj::value& v) { return bj::serialize(v); }

namespace {
void indent(std::string& out, int depth) { out.append(static_cast<std::size_t>(depth) * 2, ' '); }

void pretty_into(std::string& out, const bj::value& v, int depth) {
    switch (v.kind()) {
    case bj::kind::object: {
        const auto& o = v.get_object();
        if (o.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& kv : o) {
            if (!first) out += ",\n";
            first = false;
            indent(out, depth + 1);
            out += bj::serialize(bj::value(kv.key()));
            out += ": ";
            pretty_into(out, kv.value(), depth + 1);
        }
        out += '\n';
        indent(out, depth);
        out += '}';
        return;
    }
    case bj::kind::array: {
        const auto& a = v.get_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        bool first = true;
        for (const auto& e : a) {
            if (!first) out += ",\n";
            first = false;
            indent(out, depth + 1);
            pretty_into(out, e, depth + 1);
        }
        out += '\n';
        indent(out, depth);
        out += ']';
        return;
    }
    default: out += bj::serialize(v); return;
    }
}

[[noreturn]] void bad(const std::string& what, std::string_view key, const char* expected) {
    throw Error(Errc::store,
                what + ": field '" + std::string(key) + "' is missing or not " + expected);
}
}  // namespace

std::string pretty(const bj::value& v) {
    std::string out;
    pretty_into(out, v, 0);
    out += '\n';
    return out;
}

bj::value parse(std::string_view text, const std::string& what) {
    boost::system::error_code ec;
    bj::value v = bj::parse(text, ec);
    if (ec) throw Error(Errc::store, what + ": invalid JSON: " + ec.message());
    return v;
}

const bj::value& field(const bj::object& o, std::string_view key, const std::string& what) {
    auto it = o.find(key);
    if (it == o.end()) bad(what, key, "present");
    return it->value();
}

std::string get_string(const bj::object& o, std::string_view key, const std::string& what) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) bad(what, key, "a string");
    return std::string(it->value().get_string());
}

std::int64_t get_int(const bj::object& o, std::string_view key, const std::string& what) {
    auto it = o.find(key);
    if (it == o.end()) bad(what, key, "an integer");
    if (it->value().is_int64()) return it->value().get_int64();
    if (it->value().is_uint64() && it->value().get_uint64() <= INT64_MAX)
        return static_cast<std::int64_t>(it->value().get_uint64());
    bad(what, key, "an integer");
}

bool get_bool(const bj::object& o, std::string_view key, const std::string& what) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_bool()) bad(what, key, "a boolean");
    return it->value().get_bool();
}

const bj::object& get_object(const bj::object& o, std::string_view key, const std::string& what) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_object()) bad(what, key, "an object");
    return it->value().get_object();
}

const bj::array& get_array(const bj::object& o, std::string_view key, const std::string& what) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_array()) bad(what, key, "an array");
    return it->value().get_array();
}

}  // namespace karapace::json
