#include "karapace/util/progress.hpp"

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

}  // namespace karapace
