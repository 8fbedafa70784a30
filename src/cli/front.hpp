// The static front program. `karapace` is linked statically where the toolchain can (no dynamic
// loader, no libc to map and relocate: every command starts about a millisecond sooner), and a
// static program cannot load the libraries that images and registries need (libcurl, libarchive,
// libcrypto, liblzma: util/dynamic_library.hpp). It runs the commands that read the store and
// run environments itself (exec, enter, stop, list, inspect, help, completions: those with a
// runner in its command table, command_table.cpp), and hands every other one, unchanged, to
// karapace-full: the same CLI linked dynamically, installed beside karapace-init.
#pragma once

#include <string_view>

namespace karapace::cli {

// Replaces this process with karapace-full, with the same argv and environment, to run `command`:
// the first of libexec_program_candidates("karapace-full") (karapace/util/paths.hpp) that the
// kernel executes. Throws when none can be.
[[noreturn]] void hand_over(char** argv, std::string_view command);

}  // namespace karapace::cli
