#include "core/sandbox_steps.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "karapace/sandbox/spawn.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::core {

namespace {
// Reads `fd` to its end, keeping at most `cap` bytes and passing complete lines to `note`.
void drain(int fd, std::string& sink, std::size_t cap, ProgressSink* note) {
    std::string line;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        if (sink.size() < cap) sink.append(chunk.substr(0, cap - sink.size()));
        if (note == nullptr) continue;
        for (char c : chunk) {
            if (c == '\n' || c == '\r') {
                if (!line.empty()) note->note(line);
                line.clear();
            } else if (line.size() < 4096) {
                line.push_back(c);
            }
        }
    }
    if (note != nullptr && !line.empty()) note->note(line);
}
}  // namespace

StepOutput run_captured_step(sandbox::SandboxSpec spec, ProgressSink& progress,
                             bool separate_stdout, std::size_t cap,
                             sandbox::RunResult (*run)(const sandbox::SandboxSpec&)) {
    StepOutput result;
    UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    Pipe out_pipe;
    std::optional<Pipe> err_pipe;
    if (separate_stdout) err_pipe.emplace();
    spec.stdin_fd = devnull.get();
    spec.stdout_fd = out_pipe.write.get();
    spec.stderr_fd = separate_stdout ? err_pipe->write.get() : out_pipe.write.get();

    // Notes come from one thread only: the combined stream, or stderr when stdout is parsed.
    std::thread out_reader([&] {
        drain(out_pipe.read.get(), result.out, cap, separate_stdout ? nullptr : &progress);
    });
    std::thread err_reader;
    if (separate_stdout)
        err_reader = std::thread([&] { drain(err_pipe->read.get(), result.err, cap, &progress); });

    sandbox::RunResult rr;
    try {
        rr = run(spec);
    } catch (...) {
        out_pipe.write.reset();
        if (err_pipe) err_pipe->write.reset();
        out_reader.join();
        if (err_reader.joinable()) err_reader.join();
        throw;
    }
    out_pipe.write.reset();
    if (err_pipe) err_pipe->write.reset();
    out_reader.join();
    if (err_reader.joinable()) err_reader.join();
    result.status = rr.status;
    result.error = rr.error;
    return result;
}

}  // namespace karapace::core
