// A shared library loaded on first use rather than with the program (libcurl, libarchive,
// libcrypto: their relocations and dependencies would otherwise cost every command, `exec`
// included). Internal to libkarapace.
#pragma once

#include <string>

#include "karapace/util/error.hpp"

namespace karapace {

class DynamicLibrary {
public:
    // dlopen(soname, RTLD_NOW | RTLD_LOCAL), never closed. Error(errc) "cannot load <what>: …"
    // with `load_hint` when it fails; resolve() failures carry `symbol_hint`. In a program that
    // cannot load libraries (karapace/util/libraries.hpp) it calls the handler set there first.
    DynamicLibrary(const char* soname, std::string what, Errc errc, std::string load_hint,
                   std::string symbol_hint);

    // Sets `fn` to the symbol `name`; Error(errc) "<what> lacks <name>" when it is missing.
    template <typename F>
    void resolve(const char* name, F& fn) const {
        fn = reinterpret_cast<F>(symbol(name));
    }

private:
    void* symbol(const char* name) const;

    void* handle_ = nullptr;
    std::string what_;
    Errc errc_;
    std::string symbol_hint_;
};

}  // namespace karapace
