#!/bin/bash
# Export, ListExports and Unexport over D-Bus: a launcher and a wrapper written by the service
# for an environment built through it, the launcher valid for desktop-file-validate, the wrapper
# working, bad names and options refused with org.karapace.Error.InvalidArgs, and Unexport
# removing everything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"
command -v desktop-file-validate >/dev/null || kp_skip "desktop-file-validate is missing (apt install desktop-file-utils)"
[ -x "${KARAPACE_CLI:-}" ] || kp_skip "KARAPACE_CLI does not name the karapace binary"

# Where the service writes launchers, and the karapace it finds on PATH for them, as a desktop
# session would set them; before the first call, so the activated service inherits them.
data=$KP_TMP/data
kp_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
  UpdateActivationEnvironment 'a{ss}' 2 XDG_DATA_HOME "$data" PATH "$(dirname "$KARAPACE_CLI"):$PATH" >/dev/null

manifest=$(kp_busybox_manifest "$KP_TMP/project")
job=$(kp_call Build sa{sv} "$manifest" 1 name s web | kp_path_of)
status=$(kp_wait_job "$job")
[ "$status" = succeeded ] || kp_fail "build $status: $(kp_job_error "$job")"
"$KARAPACE_CLI" --store "$KP_STORE" exec --root web -- sh -c 'mkdir -p /usr/share/applications &&
  printf "[Desktop Entry]\nType=Application\nName=Clock\nExec=date %%F\nCategories=Utility;\n" \
    > /usr/share/applications/org.example.Clock.desktop'

out=$(kp_call_json Export sasasa{sv} web 1 clock 1 rev 1 bin_dir s "$KP_TMP/bin")
[ "$(echo "$out" | jq -r '[.data[0][] | .[0] + ":" + .[1]] | join(" ")')" = "app:org.example.Clock bin:rev" ] ||
  kp_fail "Export returned: $out"
launcher=$data/applications/karapace-web-org.example.Clock.desktop
[ "$(echo "$out" | jq -r '.data[0][0][3][0]')" = "$launcher" ] || kp_fail "the launcher path is not $launcher: $out"
desktop-file-validate "$launcher" || kp_fail "the launcher does not validate: $(cat "$launcher")"
grep -q "^Exec=$(dirname "$KARAPACE_CLI")/karapace --store $KP_STORE exec [0-9a-f]\{64\} -- date %F\$" "$launcher" ||
  kp_fail "the launcher does not run date in the environment: $(grep ^Exec "$launcher")"
[ "$(echo abc | "$KP_TMP/bin/rev")" = cba ] || kp_fail "the wrapper the service wrote does not work"
kp_ok "Export writes a valid launcher and a working wrapper and returns what it wrote"

list=$(kp_call_json ListExports s web)
[ "$(echo "$list" | jq '.data[0] | length')" = 2 ] || kp_fail "ListExports: $list"
kp_ok "ListExports shows both items"

check_error() {  # expected-name method args...
  local want=$1; shift
  local got
  got=$(kp_call_error "$@")
  [ "$got" = "$want" ] || kp_fail "$* gave '$got', expected $want"
}
check_error org.karapace.Error.InvalidArgs Export web "['../x']" "@as []" "@a{sv} {}"
check_error org.karapace.Error.InvalidArgs Export web "@as []" "['../../bin/sh']" "@a{sv} {}"
check_error org.karapace.Error.InvalidArgs Export web "['clock']" "@as []" "{'colour': <'red'>}"
check_error org.karapace.Error.InvalidArgs Export web "@as []" "['rev']" "{'bin_dir': <'relative'>}"
check_error org.karapace.Error.NotFound Export web "['no-such-app']" "@as []" "@a{sv} {}"
kp_ok "unsafe names and bad options are InvalidArgs, a missing application NotFound"

out=$(kp_call_json Unexport sasasb web 0 0 true)
[ "$(echo "$out" | jq '.data[0] | length')" = 2 ] || kp_fail "Unexport: $out"
[ -e "$launcher" ] && kp_fail "Unexport left the launcher"
[ -e "$KP_TMP/bin/rev" ] && kp_fail "Unexport left the wrapper"
[ "$(kp_call ListExports s web)" = "a(sssas) 0" ] || kp_fail "ListExports after Unexport: $(kp_call ListExports s web)"
kp_ok "Unexport with all removes every launcher and wrapper"
