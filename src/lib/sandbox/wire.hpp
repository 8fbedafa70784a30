// Carrying a karapace::Error from a sandbox child to its parent over a pipe: the category, the
// message and the hint travel in one write so the parent rebuilds the same typed error.
#pragma once

#include <optional>

#include "karapace/util/error.hpp"

namespace karapace::sandbox::wire {

// Writes `error` to `fd` in one write (truncating very long texts). Never throws: it runs in a
// child that is about to _exit.
void send_error(int fd, const Error& error) noexcept;
void send_error(int fd, Errc code, const char* message, int err = 0) noexcept;

// Reads until end of file; returns the error a child sent, or nullopt when it sent nothing.
std::optional<Error> receive_error(int fd);

// The error encoded in `in` (one send_error's bytes); nullopt when `in` is empty.
std::optional<Error> decode_error(const std::string& in);

}  // namespace karapace::sandbox::wire
