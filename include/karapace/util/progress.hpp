// Progress reporting from long operations (downloads, extraction, package installs, packing).
// Library code never prints: it reports to a ProgressSink, which the CLI renders as bars on a TTY
// and the D-Bus service turns into job properties and signals.
#pragma once

#include <cstdint>
#include <string_view>

namespace karapace {

enum class ProgressUnit { items, bytes };

class ProgressSink {
public:
    virtual ~ProgressSink() = default;
    // A new step begins (it ends the previous one, if any). `total` is 0 when unknown.
    virtual void step(std::string_view description, std::uint64_t total, ProgressUnit unit) = 0;
    // Absolute progress within the current step.
    virtual void advance(std::uint64_t done) = 0;
    // The current step has ended.
    virtual void finish(bool ok) = 0;
    // A line of output worth showing (a package manager's status line, a warning).
    virtual void note(std::string_view line) { (void)line; }
    // Long operations poll this between units of work and stop with Errc::cancelled when it is set.
    virtual bool cancelled() const { return false; }
};

// A sink that ignores everything (for callers that do not care).
ProgressSink& null_progress();

}  // namespace karapace
