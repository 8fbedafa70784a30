// Turns failures into D-Bus errors: a karapace::Error's category decides the
// org.karapace.Error.* name (util/error.hpp), its message and hint become the error text.
#pragma once

#include <exception>
#include <string>

#include <sdbus-c++/Error.h>

namespace karapace::dbus {

inline constexpr const char* error_failed = "org.karapace.Error.Failed";

// The D-Bus error for any exception: karapace::Error by category, sdbus::Error unchanged,
// anything else org.karapace.Error.Failed with its what().
sdbus::Error to_dbus_error(std::exception_ptr error);

// "message; hint" (or just the message when there is no hint).
std::string error_text(const std::string& message, const std::string& hint);

}  // namespace karapace::dbus
