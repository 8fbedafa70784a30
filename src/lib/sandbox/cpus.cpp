#include "sandbox/cpus.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <cstring>

namespace karapace::sandbox {

namespace is = init_start;

namespace {

// The caller's processors while a SameCpu narrows them, for widen_to_caller_cpus.
is::CpuMask g_narrowed_from;

// KARAPACE_SAME_CPU: 0 never, 1 also on a busy machine, otherwise on one with idle processors.
enum class Mode { never, always, when_idle };

Mode mode() {
    const char* v = std::getenv("KARAPACE_SAME_CPU");
    if (v != nullptr && std::strcmp(v, "0") == 0) return Mode::never;
    if (v != nullptr && std::strcmp(v, "1") == 0) return Mode::always;
    return Mode::when_idle;
}

std::size_t count(const is::CpuMask& mask) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < mask.words; ++i)
        n += static_cast<std::size_t>(std::popcount(mask.bits[i]));
    return n;
}

// Processor `cpu` alone.
is::CpuMask only(int cpu) {
    is::CpuMask one;
    one.words = static_cast<std::size_t>(cpu) / 64 + 1;
    one.bits[cpu / 64] = std::uint64_t{1} << (cpu % 64);
    return one;
}

// How many tasks are runnable on the whole machine now, this one included: the fourth field of
// /proc/loadavg ("0.52 0.61 0.70 2/311 4711"); 0 when it cannot be read.
std::size_t runnable_now() {
    char text[128];
    int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) return 0;
    text[n] = '\0';
    const char* p = text;
    for (int field = 0; field < 3; ++field) {
        while (*p && *p != ' ')
            ++p;
        while (*p == ' ')
            ++p;
    }
    std::size_t running = 0;
    for (; *p >= '0' && *p <= '9'; ++p)
        running = running * 10 + static_cast<std::size_t>(*p - '0');
    return *p == '/' ? running : 0;
}

}  // namespace

bool narrowing_pays(std::size_t cpus, std::size_t runnable) {
    return runnable > 0 && runnable <= cpus / 2;
}

bool idle_processors(const is::CpuMask& caller) {
    const std::size_t cpus = count(caller);
    return cpus >= 2 && narrowing_pays(cpus, runnable_now());
}

is::CpuMask caller_cpus() {
    is::CpuMask mask;
    // The raw call returns how many bytes the kernel's mask has (a multiple of a long).
    long r = is::LibcSys{}(SYS_sched_getaffinity, 0, sizeof mask.bits, mask.bits);
    if (r <= 0) return {};
    mask.words = (static_cast<std::size_t>(r) + sizeof mask.bits[0] - 1) / sizeof mask.bits[0];
    while (mask.words > 0 && mask.bits[mask.words - 1] == 0)
        --mask.words;
    return mask;
}

std::string cpus_option(const is::CpuMask& mask) {
    if (mask.words == 0) return {};
    std::string out = "cpus=";
    bool leading = true;
    for (std::size_t w = mask.words; w-- > 0;) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            unsigned digit = static_cast<unsigned>(mask.bits[w] >> shift) & 15;
            if (leading && digit == 0 && !(w == 0 && shift == 0)) continue;
            leading = false;
            out.push_back("0123456789abcdef"[digit]);
        }
    }
    return out;
}

SameCpu::SameCpu(const is::CpuMask& caller, bool idle, bool give_back) : give_back_(give_back) {
    const Mode m = count(caller) < 2 ? Mode::never : mode();
    if (m == Mode::never || (m == Mode::when_idle && !idle)) return;
    int cpu = ::sched_getcpu();
    if (cpu < 0 || static_cast<std::size_t>(cpu) >= 64 * caller.words ||
        ((caller.bits[cpu / 64] >> (cpu % 64)) & 1) == 0)
        return;
    g_narrowed_from = caller;
    if (is::set_cpus(is::LibcSys{}, only(cpu)) != 0) {
        g_narrowed_from = {};
        return;
    }
    narrowed_ = true;
}

SameCpu::~SameCpu() {
    if (!narrowed_) return;
    if (give_back_) is::set_cpus(is::LibcSys{}, g_narrowed_from);
    g_narrowed_from = {};
}

void widen_to_caller_cpus() noexcept {
    if (g_narrowed_from.words == 0) return;
    is::set_cpus(is::LibcSys{}, g_narrowed_from);
}

BesideCpus::BesideCpus() noexcept {
    if (g_narrowed_from.words == 0) return;
    int cpu = ::sched_getcpu();
    if (cpu < 0 || is::set_cpus(is::LibcSys{}, g_narrowed_from) != 0) return;
    cpu_ = cpu;
}

BesideCpus::~BesideCpus() {
    if (cpu_ >= 0) is::set_cpus(is::LibcSys{}, only(cpu_));
}

}  // namespace karapace::sandbox
