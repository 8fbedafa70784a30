// `karapace`: the command-line interface. Everything happens in run_cli().
#include <string>
#include <vector>

#include "cli/run.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return karapace::cli::run_cli(args);
}
