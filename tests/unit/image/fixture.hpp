// Test fixtures for the image layer: temporary directories, the busybox rootfs tarball and
// simplestreams tree built by tests/fixtures/, and the fixture HTTP server on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace image_test {

std::string source_root();
std::string fixtures_dir();

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Built once per test process: busybox-rootfs.tar.xz and a simplestreams tree around it.
struct Fixtures {
    std::string tarball;  // busybox rootfs
    std::string tree;     // simplestreams tree (copy it before modifying)
    std::string arch;     // the arch the tree's main products use
};
const Fixtures& fixtures();

// Copies a directory tree (cp -a).
void copy_tree(const std::string& from, const std::string& to);

class FixtureServer {
public:
    explicit FixtureServer(const std::string& root, std::vector<std::string> extra_args = {});
    ~FixtureServer();
    FixtureServer(const FixtureServer&) = delete;
    FixtureServer& operator=(const FixtureServer&) = delete;

    std::string url() const;
    int port() const { return port_; }
    // Requests logged so far whose line contains `needle`.
    int count(std::string_view needle) const;
    std::vector<std::string> requests() const;
    void stop();

private:
    pid_t pid_ = -1;
    int port_ = 0;
    TempDir state_;
};

// A TCP port on 127.0.0.1 with nothing listening (bound, then closed).
int closed_port();

std::string read_text(const std::string& path);
bool exists(const std::string& path);

}  // namespace image_test
