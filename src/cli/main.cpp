// `karapace`: the command-line interface. Everything happens in run_cli(). Built twice where the
// toolchain links static programs: the static front `karapace` (KARAPACE_FRONT, cli/front.hpp)
// and the whole CLI `karapace-full`; elsewhere once, as `karapace`.
#include <string>
#include <vector>

#include "cli/run.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
#ifdef KARAPACE_FRONT
    return karapace::cli::run_cli(args, argv);
#else
    return karapace::cli::run_cli(args);
#endif
}
