#!/usr/bin/env bash
# Startup cost of running /bin/true in a busybox environment: `karapace exec` on a built
# environment (the real CLI, overlay mounted as in every run) and karapace's sandbox alone, next
# to bubblewrap, unshare + chroot, a seed-style fuse-overlayfs pipeline and runc, on the same
# rootfs (the environment's base image in the store), measured in one hyperfine run. Not a timed
# test: it prints a markdown table of medians and the load average around the run.
#
# Usage: tests/bench/sandbox_bench.sh <build dir> [runs]
#   <build dir> holds src/cli/karapace and tests/integration/sandbox/sandbox-driver{,-lean}.
set -euo pipefail

BUILD=${1:?usage: sandbox_bench.sh <build dir> [runs]}
RUNS=${2:-200}
BUILD=$(cd "$BUILD" && pwd)
KP=$BUILD/src/cli/karapace
DRIVER=$BUILD/tests/integration/sandbox/sandbox-driver
LEAN=$BUILD/tests/integration/sandbox/sandbox-driver-lean
here=$(cd "$(dirname "$0")" && pwd)
for tool in hyperfine busybox python3 xz; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -x "$DRIVER" ] || { echo "SKIP: build $DRIVER first"; exit 77; }
[ -x "$KP" ] || { echo "SKIP: build $KP first"; exit 77; }

W=$(mktemp -d /tmp/kp-bench.XXXXXX)
cleanup() {
    [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
    mountpoint -q "$W/merged" 2>/dev/null && fusermount3 -u "$W/merged" 2>/dev/null
    chmod -R u+rwx "$W" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W"/{upper,work,fupper,fwork,merged}

# Two environments built by the CLI from the busybox fixture: "bench" as built, and "frozen"
# (a second identity through [gui] apps, which changes nothing at run time) frozen.
S=$W/store
tarball=$(sh "$here/../fixtures/make-busybox-rootfs.sh" "$W/img")
for env in bench frozen joined; do
    mkdir -p "$W/$env"
    printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[gui]\napps = ["%s"]\n' \
        "$tarball" "$env" >"$W/$env/karapace.toml"
    (cd "$W/$env" && "$KP" --store "$S" build --name "$env" >/dev/null)
done
"$KP" --store "$S" freeze frozen >/dev/null
# "joined" has a session running for the whole benchmark: every exec joins it (no overlay mount,
# no id maps to write), as a command run beside an open `karapace enter` does.
"$KP" --store "$S" exec joined -- sleep 100000 >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do
    [ -n "$(ls "$S"/env/*/sessions 2>/dev/null | grep -v start-lock)" ] && break
    sleep 0.05
done
R=$(echo "$S"/images/*/rootfs)
[ -x "$R/bin/true" ] || { echo "bench: no rootfs at $R" >&2; exit 1; }
cd "$W"

OV="--lower $R --upper $W/upper --work $W/work --hostname bench"
cmds=()
names=()
add() { names+=("$1"); cmds+=("$2"); }
add "karapace exec bench -- /bin/true (writable overlay)" "$KP --store $S exec bench -- /bin/true"
add "karapace exec frozen -- /bin/true (read-only overlay)" "$KP --store $S exec frozen -- /bin/true"
add "karapace exec joined -- /bin/true (beside a running session)" "$KP --store $S exec joined -- /bin/true"
add "karapace sandbox, exec (overlay volatile)" "$DRIVER $OV --volatile -- /bin/true"
add "karapace sandbox, lean binary (overlay volatile)" "$LEAN $OV --volatile -- /bin/true"
add "karapace sandbox, durable overlay (syncfs at exit)" "$DRIVER $OV -- /bin/true"
add "karapace sandbox, frozen (read-only overlay)" "$DRIVER --lower $R --ro -- /bin/true"
add "karapace sandbox, lean binary, frozen" "$LEAN --lower $R --ro -- /bin/true"
if command -v bwrap >/dev/null; then
    add "bwrap --unshare-all --ro-bind rootfs / --proc --dev" \
        "bwrap --unshare-all --ro-bind $R / --proc /proc --dev /dev /bin/true"
fi
add "unshare -Urmpf + chroot (no overlay)" "unshare -Urmpf chroot $R /bin/true"
if command -v fuse-overlayfs >/dev/null && [ -w /dev/fuse ]; then
    # What the earlier implementation did for every exec.
    cat >"$W/seed.sh" <<SEED
#!/bin/sh
fuse-overlayfs -o lowerdir=$R,upperdir=$W/fupper,workdir=$W/fwork $W/merged
unshare --user --map-root-user --mount --pid --fork /bin/sh -c 'mount -t proc proc $W/merged/proc; exec chroot $W/merged /bin/sh -c /bin/true'
fusermount3 -u $W/merged
SEED
    chmod +x "$W/seed.sh"
    add "seed-style: fuse-overlayfs + unshare + sh + chroot + unmount" "$W/seed.sh"
fi
if command -v runc >/dev/null && [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$W/bundle" && (cd "$W/bundle" && runc spec)
    python3 - "$W/bundle/config.json" "$R" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2], "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(sys.argv[1], "w"))
PY
    add "runc run (root, no overlay)" "runc --root $W/runc run --bundle $W/bundle kp-bench"
fi
if command -v podman >/dev/null; then
    echo "note: podman is installed but needs an image import; not measured" >&2
fi

args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$W/result.json" "${args[@]}" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$W/result.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
base = next((r for r in res if r["command"].startswith("bwrap")), None)
seed = next((r for r in res if r["command"].startswith("seed-style")), None)
print("| command | median | min | mean ± σ | vs bwrap (median) | seed-style ÷ this (median) |")
print("|---|---:|---:|---:|---:|---:|")
for r in res:
    ratio = "%.2f×" % (r["median"] / base["median"]) if base else "–"
    speedup = "%.1f×" % (seed["median"] / r["median"]) if seed else "–"
    print("| %s | %.2f ms | %.2f ms | %.2f ± %.2f ms | %s | %s |" % (
        r["command"], r["median"] * 1e3, r["min"] * 1e3, r["mean"] * 1e3,
        r["stddev"] * 1e3, ratio, speedup))
PY
echo
echo "load average (1, 5, 15 min): $load_before before, $load_after after"
