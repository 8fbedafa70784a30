#!/usr/bin/env bash
# Exported launchers and command wrappers, end to end: an image whose base layer carries a
# desktop entry, icons and a program; build exports its [gui] apps; the launcher passes
# desktop-file-validate and, started by a real launcher implementation (gio) or by expanding its
# Exec line, runs the program inside the environment; wrappers pass arguments and exit status;
# unsafe names are refused; whiteouts hide files; rebuild re-points, rename renames, unexport and
# destroy clean up. Runs as the invoking user, then (as root) again as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: export_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
command -v desktop-file-validate >/dev/null || kp_skip "desktop-file-validate is missing (apt install desktop-file-utils)"

# Adds the application to the busybox image: desktop entry, icons, the program, a file only the
# environment has.
make_app_image() {
  python3 - "$1" "$2" <<'PY'
import io, lzma, sys, tarfile
src, dest = sys.argv[1:3]
desktop = b"""[Desktop Entry]
Type=Application
Name=Hello
Name[de]=Hallo
Comment=Prints where it runs
Exec=hello --greeting "Big World" %F
TryExec=hello
Icon=org.example.Hello
Categories=Utility;
MimeType=text/x-karapace-hello;
DBusActivatable=true
Actions=again;

[Desktop Action again]
Name=Again
Exec=hello --again
"""
hello = b"""#!/bin/sh
{ echo "env=$KARAPACE_ENV"; cat /etc/only-in-env; for a in "$@"; do echo "arg=$a"; done; } > "$HOME/hello.out"
exit 3
"""
png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
files = {
    "usr/share/applications/org.example.Hello.desktop": (desktop, 0o644),
    "usr/share/icons/hicolor/48x48/apps/org.example.Hello.png": (png, 0o644),
    "usr/share/icons/hicolor/scalable/apps/org.example.Hello.svg": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 0o644),
    "usr/bin/hello": (hello, 0o755),
    "etc/only-in-env": (b"only-in-env\n", 0o644),
}
dirs = ["usr/share", "usr/share/applications", "usr/share/icons", "usr/share/icons/hicolor",
        "usr/share/icons/hicolor/48x48", "usr/share/icons/hicolor/48x48/apps",
        "usr/share/icons/hicolor/scalable", "usr/share/icons/hicolor/scalable/apps"]
with tarfile.open(src, "r:xz") as tin, tarfile.open(dest, "w:xz", format=tarfile.GNU_FORMAT) as tout:
    for m in tin.getmembers():
        tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
    for d in dirs:
        info = tarfile.TarInfo(d); info.type = tarfile.DIRTYPE; info.mode = 0o755; info.mtime = 0
        tout.addfile(info)
    for name, (data, mode) in files.items():
        info = tarfile.TarInfo(name); info.size = len(data); info.mode = mode; info.mtime = 0
        tout.addfile(info, io.BytesIO(data))
PY
}

# The launcher's Exec line with field codes expanded for `files`, as NUL-separated arguments.
exec_argv() {
  python3 - "$@" <<'PY'
import sys
path, files = sys.argv[1], sys.argv[2:]
line = None
group = None
for raw in open(path, encoding="utf-8"):
    raw = raw.strip()
    if raw.startswith("["):
        group = raw
    elif group == "[Desktop Entry]" and raw.startswith("Exec="):
        line = raw[5:]
line = line.replace("\\\\", "\\")            # string escape first, then Exec quoting
args, cur, i, inarg = [], "", 0, False
while i < len(line):
    c = line[i]
    if c == " ":
        if inarg: args.append(cur); cur, inarg = "", False
    elif c == '"':
        inarg = True; i += 1
        while line[i] != '"':
            if line[i] == "\\" and line[i + 1] in '"`$\\': i += 1
            cur += line[i]; i += 1
    else:
        inarg = True; cur += c
    i += 1
if inarg: args.append(cur)
out = []
for a in args:
    if a in ("%F", "%U"): out += files
    elif a in ("%f", "%u"): out += files[:1]
    else: out.append(a.replace("%%", "%"))
sys.stdout.write("\0".join(out))
PY
}

lifecycle() {
  local work=$1 image=$2
  local store="$work/store"
  export HOME="$work/home" XDG_DATA_HOME="$work/home/.local/share"
  mkdir -p "$HOME"
  k() { "$kp" --store "$store" "$@"; }
  local apps="$XDG_DATA_HOME/applications" icons="$XDG_DATA_HOME/icons/hicolor"
  mkdir -p "$work/proj"
  cat > "$work/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$image"
[gui]
apps = ["org.example.Hello"]
TOML
  cd "$work/proj"

  out=$(k build --name bb)
  kp_contains "$out" "exported application org.example.Hello"
  launcher="$apps/karapace-bb-org.example.Hello.desktop"
  [ -f "$launcher" ] || kp_fail "build did not export the [gui] app: $(ls -R "$XDG_DATA_HOME")"
  env_id=$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  desktop-file-validate "$launcher" || kp_fail "the launcher does not validate: $(cat "$launcher")"
  grep -q '^Name=Hello (bb)$' "$launcher" || kp_fail "Name is not marked with the environment"
  grep -q '^Name\[de\]=Hallo (bb)$' "$launcher" || kp_fail "the localised Name is not marked"
  grep -q -e '^TryExec' -e '^DBusActivatable' "$launcher" && kp_fail "TryExec/DBusActivatable survived"
  grep -q "^X-Karapace-Env=$env_id\$" "$launcher" || kp_fail "the launcher does not name the environment"
  grep -q '^Icon=karapace-bb-org.example.Hello$' "$launcher" || kp_fail "Icon does not name the copy"
  cmp -s "$icons/48x48/apps/karapace-bb-org.example.Hello.png" - < <(k exec bb -- cat /usr/share/icons/hicolor/48x48/apps/org.example.Hello.png) ||
    kp_fail "the 48x48 icon was not copied"
  [ -f "$icons/scalable/apps/karapace-bb-org.example.Hello.svg" ] || kp_fail "the scalable icon was not copied"
  grep -q 'karapace-bb-org.example.Hello.desktop' "$apps/mimeinfo.cache" ||
    kp_fail "update-desktop-database did not run on $apps"
  kp_ok "build exports [gui] apps: a valid launcher, marked name, copied icons, desktop database"

  out=$(k export bb)
  kp_contains "$out" "org.example.Hello"
  [ "$(ls "$apps" | grep -c '^karapace-')" = 1 ] || kp_fail "exporting again made a second launcher"
  kp_ok "exporting again is idempotent"

  # The Exec line, with %F expanded, runs the program inside the environment.
  rm -f "$HOME/hello.out"
  mapfile -d '' argv < <(exec_argv "$launcher" "$HOME/a file.txt" "$HOME/b.txt")
  set +e
  (cd / && "${argv[@]}" </dev/null >/dev/null 2>&1); s=$?
  set -e
  [ $s = 3 ] || kp_fail "the launcher's command exited $s, not the program's 3"
  got=$(cat "$HOME/hello.out")
  kp_contains "$got" "env=bb"
  kp_contains "$got" "only-in-env"
  kp_contains "$got" "arg=Big World"
  kp_contains "$got" "arg=$HOME/a file.txt"
  kp_contains "$got" "arg=$HOME/b.txt"
  kp_ok "the expanded Exec line runs the program in the environment with its arguments"

  if command -v gio >/dev/null; then
    rm -f "$HOME/hello.out"
    (cd / && env -u DBUS_SESSION_BUS_ADDRESS gio launch "$launcher" "$HOME/c.txt" </dev/null >/dev/null 2>&1) ||
      kp_fail "gio launch failed"
    for _ in $(seq 100); do [ -s "$HOME/hello.out" ] && break; sleep 0.1; done
    kp_contains "$(cat "$HOME/hello.out" 2>/dev/null)" "env=bb"
    kp_contains "$(cat "$HOME/hello.out")" "arg=$HOME/c.txt"
    kp_ok "gio launch starts the launcher inside the environment"
  else
    echo "# gio is missing: skipped starting the launcher through GLib"
  fi

  bins="$work/bin"
  k export bb --bin hello --bin rev --bin-dir "$bins" >/dev/null
  [ -x "$bins/hello" ] && [ -x "$bins/rev" ] || kp_fail "the wrappers were not written"
  # export runs in karapace-full where karapace is the static front: the wrappers still name
  # the karapace a user runs.
  ! grep -q 'karapace-full' "$bins/hello" || kp_fail "the wrapper runs karapace-full: $(cat "$bins/hello")"
  set +e
  (cd / && "$bins/hello" "x y" "" z >/dev/null 2>&1); s=$?
  set -e
  [ $s = 3 ] || kp_fail "the wrapper returned $s, not 3"
  [ "$(grep -c '^arg=' "$HOME/hello.out")" = 3 ] || kp_fail "the wrapper changed the arguments: $(cat "$HOME/hello.out")"
  kp_contains "$(cat "$HOME/hello.out")" "arg=x y"
  [ "$(echo abc | "$bins/rev")" = cba ] || kp_fail "stdin and stdout do not pass through the wrapper"
  k export bb --bin tac >/dev/null
  [ "$(printf '1\n2\n' | "$HOME/.local/bin/tac" | tr '\n' ' ')" = "2 1 " ] ||
    kp_fail "the wrapper in the default ~/.local/bin does not work"
  items=$(k --json export --list bb | python3 -c 'import json,sys; print(" ".join(sorted(i["kind"]+":"+i["name"] for i in json.load(sys.stdin))))')
  [ "$items" = "app:org.example.Hello bin:hello bin:rev bin:tac" ] || kp_fail "export --list gave: $items"
  kp_ok "wrappers pass arguments, stdin/stdout and exit status; --list shows every item"

  set +e
  for bad in ../x a/b ".." "a b"; do
    k export bb "$bad" >/dev/null 2>&1; s=$?
    [ $s = 64 ] || kp_fail "export '$bad' gave $s, not 64"
  done
  err=$(k export bb --bin ../../bin/sh --bin-dir "$bins" 2>&1); s=$?
  set -e
  [ $s = 64 ] || kp_fail "--bin ../../bin/sh gave $s"
  kp_contains "$err" "'..'"
  [ "$(ls "$apps" | grep -c '^karapace-')" = 1 ] || kp_fail "a refused name wrote a launcher"
  kp_ok "unsafe application and command names are refused with a usage error"

  # Icon is read on the host: a path from the environment's entry must not reach the launcher.
  k exec --root bb -- sh -c 'cat > /usr/share/applications/org.example.Sneaky.desktop' <<'DESKTOP'
[Desktop Entry]
Type=Application
Name=Sneaky
Exec=hello
Icon=../../../../../etc/shadow
Icon[de]=/etc/shadow
DESKTOP
  k exec --root bb -- sh -c 'sed "s/Sneaky/Absolute/; s|^Icon=.*|Icon=/etc/shadow|" /usr/share/applications/org.example.Sneaky.desktop > /usr/share/applications/org.example.Absolute.desktop'
  out=$(k export bb org.example.Sneaky org.example.Absolute 2>&1)
  kp_contains "$out" "the launcher has no Icon"
  for app in Sneaky Absolute; do
    l="$apps/karapace-bb-org.example.$app.desktop"
    [ -f "$l" ] || kp_fail "org.example.$app was not exported"
    grep -q '^Icon' "$l" && kp_fail "an Icon path reached the launcher: $(grep '^Icon' "$l")"
    desktop-file-validate "$l" || kp_fail "the launcher without Icon does not validate: $(cat "$l")"
  done
  k unexport bb org.example.Sneaky org.example.Absolute >/dev/null
  kp_ok "an Icon that is a relative or absolute path is dropped from the launcher, with a warning"

  echo "not ours" > "$bins/sed"
  set +e
  err=$(k export bb --bin sed --bin-dir "$bins" 2>&1); s=$?
  set -e
  [ $s != 0 ] || kp_fail "export overwrote a file it did not write"
  kp_contains "$err" "not written by karapace"
  [ "$(cat "$bins/sed")" = "not ours" ] || kp_fail "the foreign file was changed"
  kp_ok "a file karapace did not write is never replaced"

  k unexport bb --bin rev >/dev/null
  [ -e "$bins/rev" ] && kp_fail "unexport left the rev wrapper"
  [ -x "$bins/hello" ] || kp_fail "unexport of rev removed the hello wrapper"
  # Deleting a file of a lower layer leaves a whiteout in the writable layer: gone for export too.
  k exec --root bb -- rm /bin/rev
  set +e
  err=$(k export bb --bin rev --bin-dir "$bins" 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "exporting a deleted command gave $s"
  kp_contains "$err" "no executable 'rev'"
  kp_ok "unexport removes one item; a whited-out file cannot be exported"

  # A changed manifest gives a new environment: the launcher and wrapper follow it.
  printf '[runtime]\nnetwork_isolation = true\n' >> karapace.toml
  out=$(k rebuild)
  new_id=$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  [ "$new_id" != "$env_id" ] || kp_fail "the rebuild kept the environment id"
  grep -q "^X-Karapace-Env=$new_id\$" "$launcher" || kp_fail "rebuild did not re-point the launcher"
  grep -q "$new_id" "$bins/hello" || kp_fail "rebuild did not re-point the wrapper"
  rm -f "$HOME/hello.out"
  set +e
  (cd / && "$bins/hello" >/dev/null 2>&1)
  set -e
  kp_contains "$(cat "$HOME/hello.out")" "env=bb"
  kp_ok "rebuild re-points the launcher and the wrapper to the new environment"

  k rename bb hello-env >/dev/null
  [ -e "$launcher" ] && kp_fail "rename left the launcher under the old name"
  launcher="$apps/karapace-hello-env-org.example.Hello.desktop"
  grep -q '^Name=Hello (hello-env)$' "$launcher" || kp_fail "rename did not rename the launcher"
  [ -f "$icons/48x48/apps/karapace-hello-env-org.example.Hello.png" ] || kp_fail "rename did not move the icon"
  [ -e "$icons/48x48/apps/karapace-bb-org.example.Hello.png" ] && kp_fail "rename left the old icon"
  desktop-file-validate "$launcher" || kp_fail "the renamed launcher does not validate"
  kp_ok "rename renames the launcher and its icons"

  k exec --root hello-env -- rm /usr/share/applications/org.example.Hello.desktop
  set +e
  k export hello-env org.example.Hello >/dev/null 2>&1; s=$?
  set -e
  [ $s = 1 ] || kp_fail "a whited-out desktop entry could still be exported ($s)"
  kp_ok "a deleted desktop entry is not found"

  k destroy hello-env >/dev/null
  left=$(find "$XDG_DATA_HOME" "$bins" "$HOME/.local/bin" -name 'karapace-*' -o -name hello -o -name tac | tr '\n' ' ')
  [ -z "$left" ] || kp_fail "destroy left exported files: $left"
  [ "$(cat "$bins/sed")" = "not ours" ] || kp_fail "destroy touched a foreign file"
  kp_ok "destroy removes every launcher, icon and wrapper of the environment"
}

fixtures=$(mktemp -d /tmp/karapace-export.XXXXXX)
chmod 755 "$fixtures"
trap 'rm -rf "$fixtures" 2>/dev/null || true' EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
make_app_image "$tarball" "$fixtures/img/app-rootfs.tar.xz"
chmod -R a+rX "$fixtures/img"
image="$fixtures/img/app-rootfs.tar.xz"

echo "# as $(id -un)"
( lifecycle "$fixtures/self" "$image" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f lifecycle exec_argv kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; lifecycle $fixtures/user $image"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "export: all checks passed"
