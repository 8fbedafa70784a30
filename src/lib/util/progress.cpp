#include "karapace/util/progress.hpp"

#include <algorithm>

namespace karapace {

namespace {
class NullProgress final : public ProgressSink {
public:
    void step(std::string_view, std::uint64_t, ProgressUnit) override {}
    void advance(std::uint64_t) override {}
    void finish(bool) override {}
};
}  // namespace

ProgressSink& null_progress() {
    static NullProgress sink;
    return sink;
}

PhasedProgress::PhasedProgress(ProgressSink& inner, std::vector<Phase> phases)
    : inner_(inner), phases_(std::move(phases)) {
    for (const auto& p : phases_)
        weights_ += p.weight;
}

void PhasedProgress::begin(std::string_view phase) {
    if (weights_ <= 0) return;
    double start = 0;
    for (const auto& p : phases_) {
        if (p.name == phase) {
            phase_start_ = step_start_ = step_end_ = start / weights_;
            phase_end_ = (start + p.weight) / weights_;
            total_ = 0;
            report(phase_start_);
            return;
        }
        start += p.weight;
    }
}

void PhasedProgress::complete() { report(1); }

// A step of known size may take most of what is left of its phase; one of unknown size a
// smaller part, so that steps after it still move the fraction.
void PhasedProgress::step(std::string_view description, std::uint64_t total, ProgressUnit unit) {
    inner_.step(description, total, unit);
    step_start_ = std::max(phase_start_, fraction());
    resize(total);
}

void PhasedProgress::resize(std::uint64_t total) {
    if (total != total_) inner_.resize(total);
    total_ = total;
    const double left = std::max(0.0, phase_end_ - step_start_);
    step_end_ = step_start_ + left * (total > 0 ? 0.85 : 0.25);
}

void PhasedProgress::advance(std::uint64_t done) {
    inner_.advance(done);
    if (total_ == 0) return;
    const double part = static_cast<double>(std::min(done, total_)) / static_cast<double>(total_);
    report(step_start_ + (step_end_ - step_start_) * part);
}

void PhasedProgress::finish(bool ok) {
    inner_.finish(ok);
    if (ok) report(step_end_);
}

void PhasedProgress::report(double fraction) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    if (fraction <= reported_) return;
    reported_ = fraction;
    inner_.overall(fraction);
}

}  // namespace karapace
