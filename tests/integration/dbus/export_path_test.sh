#!/bin/bash
# Launchers written through the service run an absolute karapace that exists, whatever PATH the
# service has. A service whose PATH holds no karapace and that is installed apart from the CLI
# refuses Export with NotFound (no launcher that cannot start); the same binaries laid out as an
# installed prefix (bin/ and libexec/) write an absolute Exec= to the prefix's CLI, which
# desktop-file-validate accepts and `gio launch` runs, and wrappers that work without karapace in
# PATH.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"
command -v desktop-file-validate >/dev/null || kp_skip "desktop-file-validate is missing (apt install desktop-file-utils)"
command -v gio >/dev/null || kp_skip "gio is missing (apt install libglib2.0-bin)"
[ -x "${KARAPACE_CLI:-}" ] || kp_skip "KARAPACE_CLI does not name the karapace binary"

bare_path=/usr/sbin:/usr/bin:/sbin:/bin
if found=$(PATH=$bare_path command -v karapace); then
  kp_skip "karapace is installed at $found, so a PATH without it cannot be made"
fi
[ -e /usr/local/bin/karapace ] && kp_skip "karapace is installed in /usr/local/bin (the build's prefix)"

data=$KP_TMP/data
kp_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
  UpdateActivationEnvironment 'a{ss}' 2 XDG_DATA_HOME "$data" PATH "$bare_path" >/dev/null

manifest=$(kp_busybox_manifest "$KP_TMP/project")
job=$(kp_call Build sa{sv} "$manifest" 1 name s web | kp_path_of)
status=$(kp_wait_job "$job")
[ "$status" = succeeded ] || kp_fail "build $status: $(kp_job_error "$job")"
"$KARAPACE_CLI" --store "$KP_STORE" exec --root web -- sh -c 'mkdir -p /usr/share/applications &&
  printf "#!/bin/sh\necho launched \"\$@\" > /tmp/kp-launched\n" > /bin/mark && chmod 755 /bin/mark &&
  printf "[Desktop Entry]\nType=Application\nName=Mark\nExec=mark %%U\nCategories=Utility;\n" \
    > /usr/share/applications/org.example.Mark.desktop'

# --- the build tree: service and CLI in different directories, no karapace in PATH -----------
got=$(kp_call_error Export web "['mark']" "['rev']" "{'bin_dir': <'$KP_TMP/bin'>}")
[ "$got" = org.karapace.Error.NotFound ] || kp_fail "Export without a karapace to run gave '$got'"
out=$(gdbus call --address "$KP_ADDR" --dest "$KP_DEST" --object-path "$KP_PATH" \
  --method "$KP_IFACE.Export" web "['mark']" "@as []" "@a{sv} {}" 2>&1 || true)
kp_contains "$out" "cannot find the karapace executable"
[ -e "$data/applications/karapace-web-org.example.Mark.desktop" ] && kp_fail "a launcher was written anyway"
[ -e "$KP_TMP/bin/rev" ] && kp_fail "a wrapper was written anyway"
kp_ok "with no karapace to find, Export fails with NotFound saying so and writes nothing"

# --- an installed layout: <prefix>/libexec/karapace-dbus and <prefix>/bin/karapace ------------
prefix=$KP_TMP/prefix
mkdir -p "$prefix/bin" "$prefix/libexec"
cp "$KARAPACE_CLI" "$prefix/bin/karapace"
cp "$KARAPACE_DBUS" "$prefix/libexec/karapace-dbus"
pid=$(kp_service_pid)
[ -n "$pid" ] && kill "$pid"
for _ in $(seq 100); do kp_name_has_owner || break; sleep 0.1; done
sed -i "s|^Exec=[^ ]*|Exec=$prefix/libexec/karapace-dbus|" "$KP_TMP/services/org.karapace.Manager1.service"
kp_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null

out=$(kp_call_json Export sasasa{sv} web 1 mark 1 rev 1 bin_dir s "$KP_TMP/bin")
[ "$(kp_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
  GetConnectionUnixProcessID s "$KP_DEST" | awk '{print $2}' | xargs -I{} readlink /proc/{}/exe)" = \
  "$prefix/libexec/karapace-dbus" ] || kp_fail "the service did not start from $prefix/libexec"
launcher=$data/applications/karapace-web-org.example.Mark.desktop
[ -f "$launcher" ] || kp_fail "no launcher at $launcher: $out"
exec_line=$(grep '^Exec=' "$launcher")
program=$(echo "$exec_line" | sed 's/^Exec=\([^ ]*\) .*/\1/')
[ "$program" = "$prefix/bin/karapace" ] || kp_fail "the launcher runs '$program', not $prefix/bin/karapace: $exec_line"
[ -x "$program" ] || kp_fail "the launcher's program does not exist: $exec_line"
desktop-file-validate "$launcher" || kp_fail "the launcher does not validate: $(cat "$launcher")"
grep -q "^exec '$prefix/bin/karapace' \|^exec $prefix/bin/karapace " "$KP_TMP/bin/rev" ||
  kp_fail "the wrapper does not run $prefix/bin/karapace: $(cat "$KP_TMP/bin/rev")"
[ "$(echo abc | env PATH="$bare_path" "$KP_TMP/bin/rev")" = cba ] ||
  kp_fail "the wrapper does not work without karapace in PATH"
kp_ok "an installed service writes launchers and wrappers that run <prefix>/bin/karapace by its absolute path"

# gio reads the entry as a desktop menu does and starts it (no display needed for a plain app).
env PATH="$bare_path" XDG_DATA_HOME="$data" gio launch "$launcher" /tmp/some-file >"$KP_TMP/gio.log" 2>&1 ||
  kp_fail "gio launch failed: $(cat "$KP_TMP/gio.log")"
for _ in $(seq 100); do
  out=$("$KARAPACE_CLI" --store "$KP_STORE" exec web -- cat /tmp/kp-launched 2>/dev/null || true)
  [ -n "$out" ] && break
  sleep 0.1
done
[ "$out" = "launched file:///tmp/some-file" ] || [ "$out" = "launched /tmp/some-file" ] ||
  kp_fail "gio launch did not run the application in the environment: '$out' $(cat "$KP_TMP/gio.log")"
kp_ok "gio launch of the written launcher runs the application inside the environment"
