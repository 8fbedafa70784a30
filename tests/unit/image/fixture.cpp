#include "fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "karapace/image/config.hpp"
#include "karapace/image/extract.hpp"
#include "karapace/util/process.hpp"

namespace image_test {

std::string source_root() {
    const char* root = std::getenv("KARAPACE_SOURCE_ROOT");
    if (!root) throw std::runtime_error("KARAPACE_SOURCE_ROOT is not set (run through meson test)");
    return root;
}

std::string fixtures_dir() { return source_root() + "/tests/fixtures"; }

TempDir::TempDir() {
    std::string tmpl = "/tmp/karapace-image-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    ::chmod(tmpl.c_str(), 0755);
    path_ = tmpl;
}

TempDir::~TempDir() {
    // Extracted images hold read-only directories and, for an unprivileged user, files owned by
    // sub-ids: remove them the way the cache does (inside the user namespace when needed).
    try {
        karapace::image::remove_rootfs_tree(path_);
    } catch (const std::exception&) {
        karapace::run_process({"chmod", "-R", "u+rwX", path_});
        karapace::run_process({"rm", "-rf", path_});
    }
}

void copy_tree(const std::string& from, const std::string& to) {
    auto r = karapace::run_process({"cp", "-a", from, to});
    if (!r.ok()) throw std::runtime_error("cp -a " + from + " " + to + ": " + r.err);
}

const Fixtures& fixtures() {
    static TempDir dir;
    static Fixtures f;
    static std::once_flag once;
    std::call_once(once, [] {
        auto r = karapace::run_process(
            {"sh", fixtures_dir() + "/make-busybox-rootfs.sh", dir.path() + "/rootfs"});
        if (!r.ok()) throw std::runtime_error("make-busybox-rootfs.sh failed: " + r.err);
        f.tarball = dir.path() + "/rootfs/busybox-rootfs.tar.xz";
        f.arch = karapace::image::host_arch();
        karapace::RunOptions opts;
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e)
            env.emplace_back(*e);
        env.push_back("ARCH=" + f.arch);
        opts.env = env;
        r = karapace::run_process(
            {"sh", fixtures_dir() + "/make-simplestreams.sh", dir.path() + "/tree", f.tarball},
            opts);
        if (!r.ok()) throw std::runtime_error("make-simplestreams.sh failed: " + r.err);
        f.tree = dir.path() + "/tree";
    });
    return f;
}

FixtureServer::FixtureServer(const std::string& root, std::vector<std::string> extra_args) {
    const std::string port_file = state_.path() + "/port";
    std::vector<std::string> argv{
        "python3", fixtures_dir() + "/serve.py", root, "--port-file", port_file,
        "--log",   state_.path() + "/log"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // The port comes through the port file; keep the test's own output clean.
        int out =
            ::open((state_.path() + "/server.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out >= 0) {
            ::dup2(out, 1);
            ::dup2(out, 2);
        }
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
        std::ifstream in(port_file);
        if (in >> port_) return;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("the fixture server (python3 serve.py) exited at start");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("the fixture server did not report its port within 10 s");
}

FixtureServer::~FixtureServer() { stop(); }

void FixtureServer::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string FixtureServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> FixtureServer::requests() const {
    std::vector<std::string> lines;
    std::ifstream in(state_.path() + "/log");
    std::string line;
    while (std::getline(in, line))
        lines.push_back(line);
    return lines;
}

int FixtureServer::count(std::string_view needle) const {
    int n = 0;
    for (const auto& line : requests())
        if (line.find(needle) != std::string::npos) ++n;
    return n;
}

int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace image_test
