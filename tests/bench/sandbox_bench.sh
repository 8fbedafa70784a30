#!/usr/bin/env bash
# Startup cost of running /bin/true in a busybox environment: karapace's sandbox next to
# bubblewrap, unshare + chroot, a seed-style fuse-overlayfs pipeline and runc, on the same rootfs,
# measured in one hyperfine run. Not a timed test: it prints a markdown table of medians.
#
# Usage: tests/bench/sandbox_bench.sh <build dir> [runs]
#   <build dir> holds tests/integration/sandbox/sandbox-driver{,-lean}.
set -euo pipefail

BUILD=${1:?usage: sandbox_bench.sh <build dir> [runs]}
RUNS=${2:-200}
DRIVER=$BUILD/tests/integration/sandbox/sandbox-driver
LEAN=$BUILD/tests/integration/sandbox/sandbox-driver-lean
for tool in hyperfine busybox python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -x "$DRIVER" ] || { echo "SKIP: build $DRIVER first"; exit 77; }

W=$(mktemp -d /tmp/kp-bench.XXXXXX)
cleanup() {
    mountpoint -q "$W/merged" 2>/dev/null && fusermount3 -u "$W/merged" 2>/dev/null
    chmod -R u+rwx "$W" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
R=$W/rootfs
mkdir -p "$R"/{bin,etc,tmp,root,proc,sys,dev,run,home} "$W"/{upper,work,fupper,fwork,merged}
cp "$(command -v busybox)" "$R/bin/busybox"
for c in $("$R/bin/busybox" --list); do [ "$c" = busybox ] || ln -s busybox "$R/bin/$c"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"

OV="--lower $R --upper $W/upper --work $W/work --hostname bench"
cmds=()
names=()
add() { names+=("$1"); cmds+=("$2"); }
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
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$W/result.json" "${args[@]}" >&2

python3 - "$W/result.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
base = next((r for r in res if r["command"].startswith("bwrap")), None)
print("| command | median | min | mean ± σ | vs bwrap (median) |")
print("|---|---:|---:|---:|---:|")
for r in res:
    ratio = "%.2f×" % (r["median"] / base["median"]) if base else "–"
    print("| %s | %.2f ms | %.2f ms | %.2f ± %.2f ms | %s |" % (
        r["command"], r["median"] * 1e3, r["min"] * 1e3, r["mean"] * 1e3,
        r["stddev"] * 1e3, ratio))
PY
