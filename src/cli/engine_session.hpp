// What every engine-backed command needs: an Engine for the invocation's store (lock timeout and
// the "waiting for store lock" message included) and the progress renderer for this terminal.
#pragma once

#include <memory>

#include "cli/output.hpp"
#include "cli/parse.hpp"
#include "cli/progress.hpp"
#include "karapace/core/engine.hpp"

namespace karapace::cli {

// The store, lock timeout and "waiting for store lock" message the invocation asks for.
core::EngineOptions engine_options(const Invocation& inv);
core::Engine make_engine(const Invocation& inv, Output& out);
std::unique_ptr<TerminalProgress> make_progress(const Output& out);

}  // namespace karapace::cli
