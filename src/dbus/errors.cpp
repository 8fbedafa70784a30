#include "errors.hpp"

#include "karapace/util/error.hpp"

namespace karapace::dbus {

std::string error_text(const std::string& message, const std::string& hint) {
    return hint.empty() ? message : message + "; " + hint;
}

sdbus::Error to_dbus_error(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const karapace::Error& e) {
        return sdbus::Error(std::string(dbus_error_name(e.code())), error_text(e.what(), e.hint()));
    } catch (const sdbus::Error& e) {
        return e;
    } catch (const std::exception& e) {
        return sdbus::Error(error_failed, e.what());
    } catch (...) {
        return sdbus::Error(error_failed, "unknown failure");
    }
}

}  // namespace karapace::dbus
