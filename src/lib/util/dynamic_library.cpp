#include "util/dynamic_library.hpp"

#include <dlfcn.h>
#include <sys/auxv.h>

#include "karapace/util/libraries.hpp"

namespace karapace {

namespace {
std::function<void()>& on_library_needed() {
    static std::function<void()> handler;
    return handler;
}
}  // namespace

bool can_load_libraries() { return ::getauxval(AT_BASE) != 0; }

void set_on_library_needed(std::function<void()> handler) {
    on_library_needed() = std::move(handler);
}

DynamicLibrary::DynamicLibrary(const char* soname, std::string what, Errc errc,
                               std::string load_hint, std::string symbol_hint)
    : what_(std::move(what)), errc_(errc), symbol_hint_(std::move(symbol_hint)) {
    // A program the kernel started without a dynamic loader (the static `karapace` front) has no
    // loader to share with a library, and glibc's dlopen would bring in a second libc: the front
    // hands the command to karapace-full here (src/cli/front.hpp).
    if (!can_load_libraries()) {
        if (on_library_needed()) on_library_needed()();
        throw Error(errc_, "cannot load " + what_ + ": this karapace program is linked statically",
                    "run the same command line with karapace-full (installed beside "
                    "karapace-init)");
    }
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
