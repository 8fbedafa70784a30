#include "karapace/image/bootstrap.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "karapace/image/reference.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"

extern char** environ;

namespace karapace::image {

namespace {

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    std::istringstream in{std::string(line)};
    std::string w;
    while (in >> w)
        out.push_back(w);
    return out;
}

bool matches_distro(std::string_view uri, std::string_view distro) {
    std::string u(uri);
    while (!u.empty() && u.back() == '/')
        u.pop_back();
    if (u.find("security") != std::string::npos) return false;
    if (distro == "debian") return u.ends_with("/debian");
    return u.ends_with("/ubuntu") || u.ends_with("/ubuntu-ports");
}

// Splits the apt sources of a host into lines while stripping comments.
std::vector<std::string> source_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        lines.push_back(line);
    }
    return lines;
}

// How far a bootstrap is when mmdebstrap announces each of its stages (its own percentages are
// drawn only on a terminal), in percent: roughly where the time goes on a minbase build.
constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> bootstrap_stages{{
    {"I: running apt-get update", 5},
    {"I: downloading packages", 15},
    {"I: extracting archives", 40},
    {"I: installing essential packages", 50},
    {"I: installing remaining packages", 75},
    {"I: cleaning package lists", 88},
    {"I: creating tarball", 92},
    {"I: done", 99},
}};

// Accumulates mmdebstrap's output arriving in chunks, forwards whole lines, and advances the
// step (of 100) at each stage it announces.
class LineSplitter {
public:
    explicit LineSplitter(ProgressSink& sink) : sink_(sink) {}
    void feed(std::string_view chunk) {
        buf_ += chunk;
        std::size_t pos;
        while ((pos = buf_.find('\n')) != std::string::npos) {
            std::string line = buf_.substr(0, pos);
            buf_.erase(0, pos + 1);
            if (line.empty()) continue;
            sink_.note(line);
            if (auto percent = bootstrap_stage_percent(line); percent && *percent > done_)
                sink_.advance(done_ = *percent);
        }
    }

private:
    ProgressSink& sink_;
    std::string buf_;
    std::uint64_t done_ = 0;
};

}  // namespace

std::optional<std::uint64_t> bootstrap_stage_percent(std::string_view line) {
    for (const auto& [prefix, percent] : bootstrap_stages)
        if (line.starts_with(prefix)) return percent;
    return std::nullopt;
}

std::string snapshot_mirror(std::string_view distro, std::string_view timestamp) {
    if (distro == "ubuntu") return log::cat("http://snapshot.ubuntu.com/ubuntu/", timestamp, "/");
    return log::cat("http://snapshot.debian.org/archive/debian/", timestamp, "/");
}

std::string apt_mirror_from_sources(std::string_view sources, std::string_view distro) {
    for (const auto& line : source_lines(sources)) {
        auto w = words(line);
        if (w.empty()) continue;
        if (w[0] == "deb") {
            // deb [options] URI suite components
            std::size_t i = 1;
            if (i < w.size() && w[i].starts_with("[")) {
                while (i < w.size() && !w[i].ends_with("]"))
                    ++i;
                ++i;
            }
            if (i < w.size() && matches_distro(w[i], distro)) return w[i];
        } else if (w[0] == "URIs:" || w[0] == "uris:") {
            for (std::size_t i = 1; i < w.size(); ++i)
                if (matches_distro(w[i], distro)) return w[i];
        }
    }
    return {};
}

std::string host_apt_mirror(std::string_view distro) {
    std::vector<std::string> files{"/etc/apt/sources.list"};
    if (DIR* d = ::opendir("/etc/apt/sources.list.d")) {
        std::vector<std::string> names;
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n.ends_with(".list") || n.ends_with(".sources")) names.push_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names)
            files.push_back("/etc/apt/sources.list.d/" + n);
    }
    for (const auto& f : files) {
        std::string text;
        try {
            text = read_file_limited(f, 1 << 20);
        } catch (const Error&) {
            continue;
        }
        if (auto m = apt_mirror_from_sources(text, distro); !m.empty()) return m;
    }
    return {};
}

std::string snapshot_now() {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::int64_t snapshot_epoch(std::string_view ts) {
    if (!is_snapshot_timestamp(ts))
        throw Error(Errc::image, log::cat("'", ts, "' is not a snapshot timestamp"));
    std::tm tm{};
    auto num = [&](std::size_t pos, std::size_t len) {
        return std::stoi(std::string(ts.substr(pos, len)));
    };
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(4, 2) - 1;
    tm.tm_mday = num(6, 2);
    tm.tm_hour = num(9, 2);
    tm.tm_min = num(11, 2);
    tm.tm_sec = num(13, 2);
    return static_cast<std::int64_t>(::timegm(&tm));
}

std::vector<std::string> bootstrap_argv(const BootstrapRequest& req, std::string_view mirror,
                                        bool as_root) {
    std::vector<std::string> argv{"mmdebstrap", "--variant=minbase",
                                  as_root ? "--mode=root" : "--mode=unshare", "--format=tar",
                                  // Device nodes are refused by the hardened unpack; the sandbox
                                  // provides its own minimal /dev.
                                  "--skip=output/dev"};
    if (!req.arch.empty()) argv.push_back("--architectures=" + req.arch);
    // Snapshot archives serve Release files whose Valid-Until lies in the past.
    if (!req.snapshot.empty()) argv.emplace_back("--aptopt=Acquire::Check-Valid-Until \"false\"");
    argv.push_back(req.suite);
    argv.push_back(req.output);
    if (!mirror.empty()) argv.emplace_back(mirror);
    return argv;
}

BootstrapResult bootstrap(const BootstrapRequest& req, ProgressSink& progress) {
    if (!find_program("mmdebstrap"))
        throw Error(Errc::not_found,
                    log::cat("bootstrap:", req.distro, "/", req.suite, " needs mmdebstrap"),
                    "install it (apt install mmdebstrap) or use an image from the image server");
    std::string mirror = req.mirror;
    if (mirror.empty() && !req.snapshot.empty()) mirror = snapshot_mirror(req.distro, req.snapshot);
    if (mirror.empty()) mirror = host_apt_mirror(req.distro);
    const bool as_root = ::geteuid() == 0;
    auto argv = bootstrap_argv(req, mirror, as_root);

    RunOptions opts;
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (!kv.starts_with("SOURCE_DATE_EPOCH=")) env.emplace_back(kv);
    }
    // A snapshot fixes the package set; a fixed timestamp makes mmdebstrap's tar reproducible too.
    if (!req.snapshot.empty())
        env.push_back(log::cat("SOURCE_DATE_EPOCH=", snapshot_epoch(req.snapshot)));
    opts.env = env;
    LineSplitter lines(progress);
    opts.on_stderr = [&](std::string_view chunk) { lines.feed(chunk); };
    const std::string name = log::cat("bootstrap:", req.distro, "/", req.suite,
                                      req.snapshot.empty() ? "" : "@" + req.snapshot);
    progress.step(log::cat("building ", name, " with mmdebstrap"), 100, ProgressUnit::items);
    log::debug("running ", argv[0], " ", argv[1], " … ", req.suite, " ", mirror);
    ::unlink(req.output.c_str());
    ProcessResult r = run_process(argv, opts);
    if (!r.ok()) {
        ::unlink(req.output.c_str());
        progress.finish(false);
        throw Error(Errc::image,
                    log::cat("mmdebstrap failed to build ", name, " (exit ", r.status, ", mirror ",
                             mirror.empty() ? "default" : mirror, "):\n", tail_lines(r.err, 8)),
                    "check that the mirror is reachable and the suite exists; set "
                    "[images] bootstrap_mirror in config.toml to use another mirror");
    }
    progress.finish(true);
    struct stat st {};
    if (::stat(req.output.c_str(), &st) != 0)
        throw_errno(Errc::image, "mmdebstrap reported success but wrote no " + req.output);
    return {sha256_file(req.output), static_cast<std::uint64_t>(st.st_size), mirror};
}

}  // namespace karapace::image
