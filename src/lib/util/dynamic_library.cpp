#include "util/dynamic_library.hpp"

#include <dlfcn.h>

namespace karapace {

DynamicLibrary::DynamicLibrary(const char* soname, std::string what, Errc errc,
                               std::string load_hint, std::string symbol_hint)
    : what_(std::move(what)), errc_(errc), symbol_hint_(std::move(symbol_hint)) {
    handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr)
        throw Error(errc_, "cannot load " + what_ + ": " + ::dlerror(), std::move(load_hint));
}

void* DynamicLibrary::symbol(const char* name) const {
    void* p = ::dlsym(handle_, name);
    if (p == nullptr) throw Error(errc_, what_ + " lacks " + name, symbol_hint_);
    return p;
}

}  // namespace karapace
