// Shared libraries that karapace loads when an operation first needs them (libcurl, libarchive,
// libcrypto, liblzma), and what a program that cannot load any does instead: the static
// `karapace` front (src/cli/front.hpp), started without a dynamic loader.
#pragma once

#include <functional>

namespace karapace {

// Whether this program can load shared libraries: false where the kernel started it without a
// dynamic loader.
bool can_load_libraries();

// Called where a library is needed and none can be loaded, in place of loading it. The front
// sets it to hand its whole command line to karapace-full, which runs the command from the start
// (it does not return then). When it is not set, returns or throws, loading fails with an error.
void set_on_library_needed(std::function<void()> handler);

}  // namespace karapace
