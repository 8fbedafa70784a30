// The steps of a build that run in its staging sandbox, over the base image: installing the
// packages, the post_build hooks, and the package manager's clean-up before packing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/schema/lock.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::core {

// A build's staging directory: the writable layer the steps fill and overlay's work directory.
struct Staging {
    std::string dir, upper, work;
};

// Installs the manifest's packages into `st.upper` (exactly the versions of `lock` when given,
// checking downloaded archives against its checksums) and returns every package the install
// added or changed, with the archive checksums the package index reports. The package manager
// gets `epoch` as SOURCE_DATE_EPOCH.
// apt's install output as progress: "N upgraded, M newly installed" gives the size, then every
// package is fetched ("Get:"), unpacked and set up, so three lines per package. Forwards
// everything to `inner`.
class AptInstallProgress final : public ProgressSink {
public:
    explicit AptInstallProgress(ProgressSink& inner) : inner_(inner) {}
    void step(std::string_view d, std::uint64_t total, ProgressUnit unit) override {
        inner_.step(d, total, unit);
    }
    void advance(std::uint64_t done) override { inner_.advance(done); }
    void finish(bool ok) override { inner_.finish(ok); }
    bool cancelled() const override { return inner_.cancelled(); }
    void note(std::string_view line) override;

private:
    ProgressSink& inner_;
    std::uint64_t total_ = 0, done_ = 0;
};

std::vector<schema::LockedPackage> install_packages(const std::string& rootfs, const Staging& st,
                                                    const schema::NormalizedManifest& manifest,
                                                    const schema::LockFile* lock,
                                                    std::int64_t epoch, ProgressSink& progress);

// The manifest's post_build hooks, in order, each by /bin/sh -c as container root.
void run_post_build_hooks(const std::string& rootfs, const Staging& st,
                          const std::vector<std::string>& hooks, std::int64_t epoch,
                          ProgressSink& progress);

// The package manager's own clean-up; returns its table of paths that never belong in a layer
// (static data), which the caller removes from `st.upper`. Empty without a package manager.
std::vector<std::string_view> clean_layer(const std::string& rootfs, const Staging& st,
                                          std::int64_t epoch, ProgressSink& progress);

}  // namespace karapace::core
