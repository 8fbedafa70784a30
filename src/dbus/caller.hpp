// Who may drive the service: the session bus already admits only its owner, and the service
// also refuses callers of another uid, because it reads manifests and runs commands with the
// rights of the user it runs as.
#pragma once

#include <sdbus-c++/IObject.h>

namespace karapace::dbus {

// Throws org.karapace.Error.PermissionDenied unless the sender of the message `object` is
// processing has our effective uid.
void require_same_user(const sdbus::IObject& object);

}  // namespace karapace::dbus
