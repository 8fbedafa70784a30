// Ctrl-C for long operations: the first SIGINT/SIGTERM asks the running operation to stop at its
// next safe point (ProgressSink::cancelled()); a second one ends the process at once. Commands
// that cannot stop cleanly do not install the handler and keep the default behaviour.
#pragma once

namespace karapace::cli {

void install_interrupt_handler();
bool interrupt_requested() noexcept;

}  // namespace karapace::cli
