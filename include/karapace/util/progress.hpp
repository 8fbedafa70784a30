// Progress reporting from long operations (downloads, extraction, package installs, packing).
// Library code never prints: it reports to a ProgressSink, which the CLI renders as bars on a TTY
// and the D-Bus service turns into job properties and signals.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
    // The current step's size became known after it began (a download without a size in the
    // index learns it from the server).
    virtual void resize(std::uint64_t total) { (void)total; }
    // How much of the whole operation is done, 0 to 1, from its weighted phases (PhasedProgress);
    // never decreases within one operation. Sinks that show one bar per operation use it.
    virtual void overall(double fraction) { (void)fraction; }
    // Long operations poll this between units of work and stop with Errc::cancelled when it is set.
    virtual bool cancelled() const { return false; }
};

// An operation as weighted phases (a build: image, packages, hooks, pack, store): forwards every
// report to `inner` unchanged and adds overall(). Inside a phase, a step of known size moves the
// fraction with its own progress (bytes downloaded, packages installed, files packed); a step of
// unknown size counts when it ends. Nothing is estimated from time: the fraction moves only when
// the work reports.
class PhasedProgress final : public ProgressSink {
public:
    struct Phase {
        std::string name;
        double weight = 1;
    };
    PhasedProgress(ProgressSink& inner, std::vector<Phase> phases);

    // Starts the named phase; the phases before it count as done. Unknown names are ignored.
    void begin(std::string_view phase);
    // The whole operation is done.
    void complete();
    double fraction() const { return reported_ < 0 ? 0 : reported_; }

    void step(std::string_view description, std::uint64_t total, ProgressUnit unit) override;
    void advance(std::uint64_t done) override;
    void finish(bool ok) override;
    void resize(std::uint64_t total) override;
    void note(std::string_view line) override { inner_.note(line); }
    bool cancelled() const override { return inner_.cancelled(); }

private:
    void report(double fraction);

    ProgressSink& inner_;
    std::vector<Phase> phases_;
    double weights_ = 0;
    double phase_start_ = 0, phase_end_ = 0;
    double step_start_ = 0, step_end_ = 0;
    std::uint64_t total_ = 0;
    double reported_ = -1;
};

// A sink that ignores everything (for callers that do not care).
ProgressSink& null_progress();

}  // namespace karapace
