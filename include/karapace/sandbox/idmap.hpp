// User-namespace id maps: which host ids a sandbox sees as which container ids. The plan is
// computed from /etc/subuid and /etc/subgid (pure, unit-tested) and then written for a child
// process, directly (root, or a single id) or through newuidmap/newgidmap (sub-id ranges).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/sandbox/userns.hpp"

namespace karapace::sandbox {

// A contiguous range of subordinate ids from /etc/subuid or /etc/subgid.
struct SubIdRange {
    std::uint32_t start = 0;
    std::uint32_t count = 0;
    bool operator==(const SubIdRange&) const = default;
};

// One line of /proc/<pid>/uid_map: `count` ids starting at `inside` map to `outside`.
struct IdMapLine {
    std::uint32_t inside = 0;
    std::uint32_t outside = 0;
    std::uint32_t count = 0;
    bool operator==(const IdMapLine&) const = default;
};

struct IdMapPlan {
    std::vector<IdMapLine> uid;
    std::vector<IdMapLine> gid;
    bool use_helpers = false;     // write through newuidmap/newgidmap (setuid helpers)
    bool deny_setgroups = false;  // single-id mapping written by an unprivileged process
    bool single_id = false;       // the user has no sub-id range: only its own id is mapped
    // Container ids the sandboxed command runs as.
    uid_t inner_uid = 0;
    gid_t inner_gid = 0;
    // The process that made the namespace is not inner_uid/inner_gid there by its mapping: it
    // switches to them (setresuid/setresgid) once the map is written (container root of a user
    // with sub-ids, whose own uid stays itself inside, as in enter/exec).
    bool switch_ids = false;
    // True when `id` (a container id) is mapped by `lines`.
    static bool maps(const std::vector<IdMapLine>& lines, std::uint32_t id);
};

// Switches the calling process (in the new namespace, its maps written) to the plan's inner ids
// when switch_ids says so. Throws Error(runtime) when the kernel refuses.
void become_inner_ids(const IdMapPlan& plan);

// The id inside that has the highest host id of `lines` other than `self`'s, or 0 when that is
// container root's. In maps made before format 4 it was container id 65536 (no image has files of
// it), so the format 3 -> 4 migration uses it as a spare.
std::uint32_t top_sub_id_inside(const std::vector<IdMapLine>& lines, std::uint32_t self);

// Minimum sub-id range that counts as usable (what useradd allocates).
inline constexpr std::uint32_t kMinSubIds = 65536;

// The first range of `user` (by name or by decimal uid) in subuid/subgid text; nullopt when
// there is none. Malformed lines are skipped.
std::optional<SubIdRange> find_subid_range(std::string_view text, std::string_view user, uid_t id);

// The name of `uid` from /etc/passwd text (no NSS, so no library loading on the hot path).
std::optional<std::string> passwd_name(std::string_view passwd_text, uid_t uid);

// Computes the maps. Root (uid 0) gets the identity map of the whole range; a user with ranges of
// at least kMinSubIds gets helper-written maps; otherwise a single mapping of the user's own ids.
IdMapPlan plan_id_maps(IdMapping mapping, uid_t uid, gid_t gid, std::optional<SubIdRange> subuid,
                       std::optional<SubIdRange> subgid);

// The plan for the calling user, read from /etc/passwd, /etc/subuid and /etc/subgid. Warns once
// when the user has no usable range.
IdMapPlan plan_id_maps_for_caller(IdMapping mapping);
// The same for a caller whose user name (passwd_name of its uid, else the uid) is known.
IdMapPlan plan_id_maps_for_caller(IdMapping mapping, const std::string& name);

// Text of a map file ("inside outside count\n" lines).
std::string format_id_map(const std::vector<IdMapLine>& lines);

// Writes the plan for process `pid` (which must be in a new user namespace and not yet using it).
// Throws Error(runtime) naming the map and the helper's message.
void write_id_maps(pid_t pid, const IdMapPlan& plan);

}  // namespace karapace::sandbox
