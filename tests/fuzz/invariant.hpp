// A broken round-trip invariant is a finding like a crash: report it and abort, so libFuzzer
// saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace karapace::fuzz {

inline void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

}  // namespace karapace::fuzz
