#!/usr/bin/env bash
# `gpu = true` with the NVIDIA driver's userspace, on a fake driver tree this test makes (no GPU
# needed): shared libraries compiled here and named like the driver's (libcuda.so.1 exports a
# function returning 42), a fake nvidia-smi, an ld.so.cache that lists them (written by ldconfig
# -r), /dev/nvidia* nodes that behave like /dev/null, /proc/driver/nvidia, and CDI specs good and
# bad. KARAPACE_GPU_HOST_ROOT points the passthrough at it. In a Debian environment, as root and
# as the unprivileged test user, through the namespace sandbox and the OCI backend: ld.so finds
# the libraries, a program dlopens libcuda.so.1, nvidia-smi runs, NVIDIA_VISIBLE_DEVICES picks
# GPUs, diff shows nothing of it, gpu = false gets none of it, bad CDI specs are refused.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: gpu_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}

[ "$(id -u)" = 0 ] || kp_skip "the fake /dev/nvidia* nodes need mknod, which needs root"
command -v cc >/dev/null || kp_skip "no C compiler to build the fake driver libraries"
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
[ -x "$ldconfig" ] || kp_skip "ldconfig is not installed"
command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed"
mkdir -p "$cache"
tarball=$(sh "$src/tests/fixtures/make-debian-rootfs.sh" "$cache" 2>"$cache/mmdebstrap.log") ||
  kp_skip "mmdebstrap could not build the rootfs (no mirror?): $(tail -3 "$cache/mmdebstrap.log")"
chmod a+r "$tarball"

work=$(mktemp -d /tmp/karapace-gpu.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT

# ---- the fake driver, version 999.1, two GPUs ----------------------------------------------
fake_driver() {
  local R=$1 lib=$1/usr/lib/x86_64-linux-gnu
  mkdir -p "$lib" "$R/usr/bin" "$R/etc" "$R/dev" "$R/usr/share/vulkan/icd.d" \
    "$R/proc/driver/nvidia/gpus/0000:01:00.0" "$R/proc/driver/nvidia/gpus/0000:02:00.0"
  echo 'int karapace_fake_cuda(void) { return 42; }' > "$work/cuda.c"
  for so in libcuda.so.1 libnvidia-ml.so.1 libGLX_nvidia.so.0; do
    cc -shared -fPIC -Wl,-soname,$so -o "$lib/${so%%.so*}.so.999.1" "$work/cuda.c"
    ln -s "${so%%.so*}.so.999.1" "$lib/$so"
  done
  printf '#!/bin/sh\necho "GPU 0: NVIDIA Fake (UUID: GPU-aaaa)"\n' > "$R/usr/bin/nvidia-smi"
  chmod 755 "$R/usr/bin/nvidia-smi"
  printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s"}}\n' \
    /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 > "$R/usr/share/vulkan/icd.d/nvidia_icd.json"
  echo /usr/lib/x86_64-linux-gnu > "$R/etc/ld.so.conf"
  "$ldconfig" -r "$R"
  echo "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  999.1  Release Build" \
    > "$R/proc/driver/nvidia/version"
  local i=0
  for uuid in GPU-aaaa GPU-bbbb; do
    printf 'Model: \t\t NVIDIA Fake\nGPU UUID: \t %s\nDevice Minor: \t %s\n' "$uuid" $i \
      > "$R/proc/driver/nvidia/gpus/0000:0$((i + 1)):00.0/information"
    mknod -m 666 "$R/dev/nvidia$i" c 1 3
    i=$((i + 1))
  done
  mknod -m 666 "$R/dev/nvidiactl" c 1 3
  mknod -m 666 "$R/dev/nvidia-uvm" c 1 3
}
fake_driver "$work/driver"
"$ldconfig" -p -C "$work/driver/etc/ld.so.cache" | grep -q 'libcuda.so.1 (libc6,x86-64) => /usr/lib' ||
  kp_fail "ldconfig -r did not write the fake driver's cache"

# The same driver with a CDI spec in /etc/cdi, as nvidia-ctk writes it (YAML), and with a spec
# that binds a file outside the driver's places.
cp -a "$work/driver" "$work/cdi"
mkdir -p "$work/cdi/etc/cdi"
cat > "$work/cdi/etc/cdi/nvidia.yaml" <<'YAML'
---
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
    - path: /dev/nvidia1
containerEdits:
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  - FAKE_CDI_ENV=from-the-spec
  deviceNodes:
  - path: /dev/nvidiactl
  hooks:
  - hookName: createContainer
    path: /usr/bin/nvidia-ctk
    args: [nvidia-ctk, hook, create-symlinks, --link, libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so]
  - hookName: createContainer
    path: /usr/bin/nvidia-ctk
    args: [nvidia-ctk, hook, update-ldcache, --folder, /usr/lib/x86_64-linux-gnu]
  mounts:
  - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.999.1
    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.999.1
    options: [ro, nosuid, nodev, bind]
  - hostPath: /usr/bin/nvidia-smi
    containerPath: /usr/bin/nvidia-smi
    options: [ro, nosuid, nodev, bind]
YAML
cp -a "$work/driver" "$work/badcdi"
mkdir -p "$work/badcdi/etc/cdi" "$work/badcdi/root/.ssh"
echo secret > "$work/badcdi/root/.ssh/id_rsa"
sed 's|hostPath: /usr/bin/nvidia-smi|hostPath: /root/.ssh/id_rsa|' "$work/cdi/etc/cdi/nvidia.yaml" \
  > "$work/badcdi/etc/cdi/nvidia.yaml"
cp -a "$work/driver" "$work/brokencdi"
mkdir -p "$work/brokencdi/etc/cdi"
printf 'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: [\n' > "$work/brokencdi/etc/cdi/nvidia.yaml"

# A program that dlopens libcuda.so.1 as CUDA programs do, built here for the Debian guest.
mkdir -p "$work/tools"
cat > "$work/tools/probe.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(void) {
    void* h = dlopen("libcuda.so.1", RTLD_NOW);
    if (!h) { printf("dlopen failed: %s\n", dlerror()); return 1; }
    int (*f)(void) = (int (*)(void))dlsym(h, "karapace_fake_cuda");
    printf("libcuda says %d\n", f ? f() : -1);
    return 0;
}
C
cc -o "$work/tools/probe" "$work/tools/probe.c" -ldl
chmod -R a+rX "$work"

scenario() {
  local dir=$1 work=$2 tarball=$3
  k() { "$kp" --store "$dir/store" "$@"; }
  manifest() {  # manifest DIR GPU [BACKEND]
    mkdir -p "$1"
    cat > "$1/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[hardware]
gpu = $2
[runtime]
backend = "${3:-namespace}"
TOML
    # The OCI backend cannot bind manifest mounts yet; its test copies the probe in.
    [ "${3:-namespace}" = oci ] || printf '[mounts]\ntools = "%s/tools:/opt/tools:ro"\n' "$work" >> "$1/karapace.toml"
  }
  manifest "$dir/gpu" true
  manifest "$dir/plain" false
  manifest "$dir/oci" true oci
  (cd "$dir/gpu" && k build --name gpu >/dev/null)
  (cd "$dir/plain" && k build --name plain >/dev/null)
  export KARAPACE_GPU_HOST_ROOT=$work/driver

  out=$(k exec gpu -- ldconfig -p)
  kp_contains "$out" "libcuda.so.1 (libc6,x86-64) => /run/host/nvidia/lib64/libcuda.so.1"
  kp_contains "$out" "libnvidia-ml.so.1 (libc6,x86-64) => /run/host/nvidia/lib64/libnvidia-ml.so.1"
  kp_contains "$out" "libc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6"
  [ "$(k exec gpu -- /opt/tools/probe)" = "libcuda says 42" ] ||
    kp_fail "the probe could not dlopen the driver's libcuda.so.1: $(k exec gpu -- /opt/tools/probe 2>&1)"
  [ "$(k exec gpu -- nvidia-smi)" = "GPU 0: NVIDIA Fake (UUID: GPU-aaaa)" ] || kp_fail "nvidia-smi did not run"
  [ -z "$(k exec gpu -- sh -c 'echo $LD_LIBRARY_PATH')" ] || kp_fail "LD_LIBRARY_PATH was set although the cache lists the libraries"
  kp_ok "ldconfig -p lists the driver's libraries, a program dlopens libcuda.so.1, nvidia-smi runs"

  k exec gpu -- test -c /dev/nvidia0 -a -c /dev/nvidia1 -a -c /dev/nvidiactl -a -c /dev/nvidia-uvm ||
    kp_fail "the NVIDIA device nodes are not there"
  [ "$(NVIDIA_VISIBLE_DEVICES=1 k exec gpu -- sh -c 'ls /dev | grep nvidia | tr "\n" " "')" = "nvidia-uvm nvidia1 nvidiactl " ] ||
    kp_fail "NVIDIA_VISIBLE_DEVICES=1 did not limit the GPUs to /dev/nvidia1"
  [ "$(k exec --env NVIDIA_VISIBLE_DEVICES=GPU-aaaa gpu -- sh -c 'ls /dev | grep nvidia | tr "\n" " "')" = "nvidia-uvm nvidia0 nvidiactl " ] ||
    kp_fail "--env NVIDIA_VISIBLE_DEVICES=GPU-aaaa did not pick /dev/nvidia0"
  NVIDIA_VISIBLE_DEVICES=void k exec gpu -- sh -c '! ls /dev/nvidiactl /run/host/nvidia 2>/dev/null' ||
    kp_fail "NVIDIA_VISIBLE_DEVICES=void still passed the driver"
  kp_ok "the GPUs' nodes are there; NVIDIA_VISIBLE_DEVICES picks them by index or UUID, void passes none"

  icd=$(k exec gpu -- sh -c 'cat /run/host/nvidia/share/vulkan/icd.d/nvidia_icd.json; echo "$XDG_DATA_DIRS"')
  kp_contains "$icd" '"library_path": "libGLX_nvidia.so.0"'
  kp_contains "$icd" "/run/host/nvidia/share"
  kp_ok "the Vulkan manifest names the library by soname and is on the loader's path"

  # Nothing of the driver lands in the writable layer: the drift after a GPU session is the same
  # as after a session of the same environment without GPU.
  k exec plain -- true
  baseline=$(k diff plain | tail -n +2)
  drift=$(k diff gpu | tail -n +2)
  [ "$drift" = "$baseline" ] || kp_fail "diff after a GPU session differs from a plain one: [$drift] vs [$baseline]"
  case "$drift" in *nvidia* | *ld.so*) kp_fail "diff shows the driver: $drift" ;; esac
  kp_ok "diff shows nothing of the driver"

  k exec plain -- sh -c '! test -e /run/host/nvidia && ! test -e /dev/nvidia0 && ! ldconfig -p | grep -q libcuda' ||
    kp_fail "an environment with gpu = false got NVIDIA files"
  kp_ok "gpu = false gets none of it"

  json=$(k --json inspect gpu)
  echo "$json" | python3 -c '
import json, sys
g = json.load(sys.stdin)["gpu"]["nvidia"]
assert g["source"] == "discovery", g
assert g["driver_version"] == "999.1", g
assert "/dev/nvidia0" in g["devices"], g
assert "/run/host/nvidia/lib64/libcuda.so.1" in g["libraries"], g
assert "/run/host/nvidia/bin/nvidia-smi" in g["programs"], g' || kp_fail "inspect does not describe the GPU pass-through: $json"
  k --json doctor | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["checks"] if c["name"] == "gpu"][0]
assert "NVIDIA driver 999.1, 2 GPUs" in c["message"], c
assert "found through /etc/ld.so.cache: 3 libraries" in c["message"], c' || kp_fail "doctor does not report the driver"
  kp_ok "inspect and doctor report the driver, its files and where they come from"

  # A CDI spec, when there is one, says what is passed.
  export KARAPACE_GPU_HOST_ROOT=$work/cdi
  [ "$(k exec gpu -- sh -c 'ls /run/host/nvidia/lib64 | tr "\n" " "')" = "libcuda.so libcuda.so.1 libcuda.so.999.1 " ] ||
    kp_fail "the CDI spec's library, its soname and its link are not all there (and nothing else)"
  out=$(k exec gpu -- sh -c 'ls /dev | grep nvidia | tr "\n" " "; echo "$FAKE_CDI_ENV"; nvidia-smi; /opt/tools/probe')
  kp_contains "$out" "nvidia0 nvidia1 nvidiactl "
  kp_contains "$out" "from-the-spec"
  kp_contains "$out" "libcuda says 42"
  kp_contains "$out" "GPU 0: NVIDIA Fake"
  k --json inspect gpu | python3 -c '
import json, sys
g = json.load(sys.stdin)["gpu"]["nvidia"]
assert g["source"] == "cdi" and g["cdi_spec"].endswith("/cdi/etc/cdi/nvidia.yaml"), g' ||
    kp_fail "inspect does not name the CDI spec as the source"
  kp_ok "a CDI spec's libraries, links, programs, nodes and variables are passed, and no more"

  for bad in badcdi brokencdi; do
    export KARAPACE_GPU_HOST_ROOT=$work/$bad
    set +e
    err=$(k exec gpu -- /opt/tools/probe 2>&1 >/dev/null); s=$?
    out=$(k exec gpu -- /opt/tools/probe 2>/dev/null)
    set -e
    [ $s = 0 ] || kp_fail "with a refused CDI spec ($bad) the environment did not run: $err"
    kp_contains "$err" "the CDI spec $work/$bad/etc/cdi/nvidia.yaml is refused"
    [ "$out" = "libcuda says 42" ] || kp_fail "after the refused spec ($bad), discovery did not pass the driver"
  done
  kp_contains "$(KARAPACE_GPU_HOST_ROOT=$work/badcdi k exec gpu -- true 2>&1)" "outside the places a driver's files live"
  kp_ok "a malformed CDI spec, or one binding files outside the driver's places, is refused with a clear message; the environment runs"

  export KARAPACE_GPU_HOST_ROOT=$work/driver
  # ldconfig run inside as root (what apt's triggers do) still works, and keeps the libraries.
  k exec --root gpu -- ldconfig || kp_fail "ldconfig as root inside a GPU session failed"
  k exec gpu -- ldconfig -p | grep -q '/run/host/nvidia/lib64/libcuda.so.1' ||
    kp_fail "after ldconfig inside, the cache lost the driver's libraries"
  [ "$(k exec gpu -- /opt/tools/probe)" = "libcuda says 42" ] || kp_fail "the probe fails after ldconfig"
  kp_ok "ldconfig inside the environment works and keeps the driver's libraries"

  # The OCI backend gets the same devices, mounts and variables in its config.json.
  if ! command -v runc >/dev/null; then
    echo "# skipped the OCI backend: runc is not installed"
    return 0
  fi
  (cd "$dir/oci" && k build --name oci >/dev/null)
  out=$(k exec oci -- sh -c 'cat > /tmp/probe && chmod +x /tmp/probe && ldconfig -p | grep libcuda; nvidia-smi; /tmp/probe; test -c /dev/nvidia1 && echo nodes' < "$work/tools/probe")
  kp_contains "$out" "/run/host/nvidia/lib64/libcuda.so.1"
  kp_contains "$out" "GPU 0: NVIDIA Fake"
  kp_contains "$out" "libcuda says 42"
  kp_contains "$out" "nodes"
  # Further names of one library (the CDI spec's libcuda.so.1 and libcuda.so) are bound again.
  [ "$(KARAPACE_GPU_HOST_ROOT=$work/cdi k exec oci -- /tmp/probe)" = "libcuda says 42" ] ||
    kp_fail "through the OCI backend, a CDI spec's library is not found by its soname"
  kp_ok "the OCI backend passes the same driver"
  unset KARAPACE_GPU_HOST_ROOT
}

echo "# as $(id -un)"
mkdir -p "$work/self"
( scenario "$work/self" "$work" "$tarball" )
if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$work/user" && chown "$user" "$work/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; scenario $work/user $work $tarball"
else
  echo "# skipped the unprivileged run: no test user"
fi
echo "gpu: all checks passed"
