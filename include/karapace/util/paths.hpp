// User and filesystem locations: home, XDG directories, the default store root, and small
// directory helpers.
#pragma once

#include <sys/types.h>
#include <string>
#include <string_view>
#include <vector>

namespace karapace {

// $HOME, else the passwd entry of the real uid.
std::string home_dir();
std::string xdg_data_home();    // $XDG_DATA_HOME or ~/.local/share
std::string xdg_config_home();  // $XDG_CONFIG_HOME or ~/.config
std::string xdg_cache_home();   // $XDG_CACHE_HOME or ~/.cache
// --store, else $KARAPACE_STORE, else $XDG_DATA_HOME/karapace.
std::string default_store_root();
// `mkdir -p` with `mode` for the directories it creates; throws Error naming the path.
void make_dirs(const std::string& path, mode_t mode = 0755);
// Where a program installed in libexecdir (karapace-init, karapace-full) may be, in order: beside
// the running executable (the build tree, and karapace-dbus in libexecdir); ../libexec from it
// (bin/karapace of a prefix, also ~/.local); the libexecdir the build was configured for.
std::vector<std::string> libexec_program_candidates(std::string_view name);
// Lexically normalised absolute path (no filesystem access): "/a/./b/../c" -> "/a/c".
std::string lexically_absolute(const std::string& path, const std::string& base);
// The same against the current directory, which is asked for only when `path` is relative;
// throws Error when it cannot be read.
std::string lexically_absolute(const std::string& path);

}  // namespace karapace
