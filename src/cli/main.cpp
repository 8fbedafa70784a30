// `karapace`: the command-line interface. Everything happens in run_cli(); main only prepares
// the process.
#include <csignal>
#include <string>
#include <vector>

#include "cli/run.hpp"

int main(int argc, char** argv) {
    // A closed stdout shows up as EPIPE on write (handled in Output), not as a fatal signal.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    return karapace::cli::run_cli(args);
}
