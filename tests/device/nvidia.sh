#!/usr/bin/env bash
# The device check of `gpu = true` on a machine with a real NVIDIA GPU, as root (it installs the
# uidmap helpers and creates an unprivileged user). Such machines may have no network and no
# Debian packages, so everything comes from the bundle tests/device/make-bundle.sh makes. It
# builds a `gpu = true` environment from the bundle's glibc rootfs and checks, as root and as an
# unprivileged user with newuidmap: `nvidia-smi -L` lists the GPU, and a CUDA program built here
# with `nvcc -cudart static` runs inside and computes the right result. One PASS/FAIL line per
# check; the exit status is the number of failures.
# Usage: tests/device/nvidia.sh BUNDLE_DIR [LOG_DIR]
set -uo pipefail
bundle=$(cd "${1:?usage: nvidia.sh BUNDLE_DIR [LOG_DIR]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
logs=${2:-}
w=/tmp/karapace-device
user=kpgpu
failures=0

pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
info() { echo "INFO $*"; }
# check NAME COMMAND...: PASS when it exits 0, else FAIL with the end of its output.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name: $(echo "$out" | tail -4 | tr '\n' '|')"; fi
  [ -z "$logs" ] || printf '== %s\n%s\n' "$name" "$out" >> "$logs/nvidia-check.log"
}

rm -rf "$w" && mkdir -p "$w" && chmod 755 "$w"
[ -z "$logs" ] || { mkdir -p "$logs" && : > "$logs/nvidia-check.log"; }

info "date $(date -u +%Y-%m-%dT%H:%M:%SZ); kernel $(uname -r); $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown OS}")"
info "host nvidia-smi -L: $(nvidia-smi -L 2>&1 | head -2 | tr '\n' ' ')"
info "driver: $(head -1 /proc/driver/nvidia/version 2>/dev/null || echo 'no /proc/driver/nvidia/version')"
info "host ld.so.cache lists $(ldconfig -p 2>/dev/null | grep -cE 'libcuda|libnvidia|_nvidia') driver libraries; CDI specs: $(ls /etc/cdi /var/run/cdi 2>/dev/null | tr '\n' ' ')"
if [ -n "$logs" ]; then
  { echo "== host"; ls -la /dev/nvidia* /usr/local/nvidia /usr/local/nvidia/* 2>&1
    ldconfig -p | grep -E 'nvidia|cuda'; cat /proc/driver/nvidia/version; mount | grep -E 'nvidia|/tmp'
    cat /proc/sys/kernel/unprivileged_userns_clone /proc/sys/user/max_user_namespaces 2>&1; } \
    >> "$logs/nvidia-check.log" 2>&1
fi

# ---- karapace, its libraries, the uidmap helpers, the user -----------------------------------
tar -C "$w" -xzf "$bundle/bundle.tar.gz" || { fail "unpack the bundle"; exit 1; }
chmod -R a+rX "$w"
kp() { LD_LIBRARY_PATH="$w/lib" "$w/bin/karapace" "$@"; }
check "karapace runs here" kp --version

for tool in newuidmap newgidmap; do
  if ! command -v $tool >/dev/null; then
    install -m 4755 -o root "$w/uidmap/$tool" /usr/local/bin/$tool
  fi
done
# Set-uid programs ignore LD_LIBRARY_PATH: the helpers' libraries must be where ld.so looks.
if ldd "$(command -v newuidmap)" 2>/dev/null | grep -q 'not found'; then
  mkdir -p /usr/local/lib/karapace-uidmap
  cp "$w"/uidmap/lib/* /usr/local/lib/karapace-uidmap/
  echo /usr/local/lib/karapace-uidmap > /etc/ld.so.conf.d/zz-karapace-uidmap.conf
  ldconfig
fi
check "newuidmap and newgidmap are usable" sh -c "ldd $(command -v newuidmap) | grep -v 'not found' >/dev/null && ! ldd $(command -v newgidmap) | grep -q 'not found'"
id $user >/dev/null 2>&1 || useradd -m -s /bin/sh $user 2>/dev/null || adduser --disabled-password --gecos '' $user >/dev/null
for f in /etc/subuid /etc/subgid; do
  grep -q "^$user:" $f 2>/dev/null || echo "$user:300000:65536" >> $f
done
check "the unprivileged user $user exists with sub-ids" sh -c "id $user && grep -q ^$user: /etc/subuid"

# ---- the CUDA program, built here --------------------------------------------------------------
mkdir -p "$w/tools"
nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null | head -1)
if [ -z "$nvcc" ]; then
  fail "nvcc is not on this machine"
else
  info "$("$nvcc" --version | tail -2 | head -1)"
  # Compiled by nvcc, linked by the host compiler with libstdc++ and libgcc static, so the
  # program needs no newer libstdc++ than the environment's.
  cudalib=$(dirname "$(find "$(dirname "$nvcc")/.." /usr/local/cuda* -name libcudart_static.a 2>/dev/null | head -1)")
  if "$nvcc" -c -o "$w/saxpy.o" "$here/saxpy.cu" &&
    g++ -o "$w/tools/saxpy" "$w/saxpy.o" -L"$cudalib" -lcudart_static -ldl -lpthread -lrt \
      -static-libstdc++ -static-libgcc 2>"$w/link.err"; then
    info "linked with g++ against $cudalib/libcudart_static.a"
  else
    info "g++ link failed ($(tail -1 "$w/link.err")); linking with nvcc -cudart static"
    "$nvcc" -cudart static -o "$w/tools/saxpy" "$here/saxpy.cu"
  fi
  info "the program needs: $(objdump -T "$w/tools/saxpy" 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1)"
  check "the CUDA program (nvcc -cudart static) runs on the host" "$w/tools/saxpy"
fi
[ -x "$w/bin/saxpy-prebuilt" ] && cp "$w/bin/saxpy-prebuilt" "$w/tools/"
chmod -R a+rX "$w"

# ---- as root and as the user: a gpu = true environment from the bundle's rootfs ---------------
# The checks, each a function of the scenario's `k` (karapace as WHO with its own store).
smi_lists_gpu() { k exec gpu -- nvidia-smi -L | grep -q 'GPU 0:'; }
cache_lists_libcuda() {
  k exec gpu -- ldconfig -p | grep -q 'libcuda.so.1 .*/run/host/nvidia/lib64/libcuda.so.1'
}
cuda_runs_inside() { k exec gpu -- /opt/tools/saxpy; }
prebuilt_runs_inside() { k exec gpu -- /opt/tools/saxpy-prebuilt; }
vulkan_sees_gpu() {
  local out
  out=$(k exec gpu -- vulkaninfo --summary 2>&1)
  echo "$out"
  echo "$out" | grep -qE 'deviceName +=.*NVIDIA' && return 0
  # The loader's own account, for the log.
  [ -z "$logs" ] || k exec --env VK_LOADER_DEBUG=error,warn,driver gpu -- vulkaninfo --summary \
    >> "$logs/vulkan-loader.log" 2>&1
  return 1
}
diff_is_clean() { ! k diff gpu | grep -E 'nvidia|ld.so'; }
plain_has_nothing() { k exec plain -- sh -c '! test -e /dev/nvidiactl && ! test -e /run/host/nvidia'; }

scenario() {  # scenario WHO
  who=$1
  dir=$w/$who
  for kind in gpu plain; do
    mkdir -p "$dir/$kind"
    cat > "$dir/$kind/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$w/rootfs.tar.gz"
[hardware]
gpu = $([ $kind = gpu ] && echo true || echo false)
[mounts]
tools = "$w/tools:/opt/tools:ro"
TOML
  done
  [ "$who" = root ] || chown -R "$who" "$dir"
  check "build a gpu = true environment (as $who)" k build --name gpu "$dir/gpu/karapace.toml"
  k build --name plain "$dir/plain/karapace.toml" >/dev/null 2>&1
  check "nvidia-smi -L lists the GPU inside (as $who)" smi_lists_gpu
  check "ldconfig -p inside lists libcuda.so.1 below /run/host/nvidia (as $who)" cache_lists_libcuda
  if [ -x "$w/tools/saxpy" ]; then
    check "the CUDA program runs inside and computes the right result (as $who)" cuda_runs_inside
    # Built against this machine's glibc, it may need a newer one than the rootfs (Debian 12)
    # has; the same program built on Debian 12 then shows whether the GPU works inside.
    case "$(k exec gpu -- /opt/tools/saxpy 2>&1)" in
    *GLIBC_*) [ ! -x "$w/tools/saxpy-prebuilt" ] ||
      check "the same CUDA program built on Debian 12 runs inside (as $who)" prebuilt_runs_inside ;;
    esac
  fi
  if [ -z "$vulkan_outside" ]; then
    check "vulkaninfo inside finds the GPU through the driver's Vulkan manifest (as $who)" vulkan_sees_gpu
  else
    echo "SKIP vulkaninfo inside (as $who): $vulkan_outside"
  fi
  check "diff shows nothing of the driver (as $who)" diff_is_clean
  check "without gpu = true nothing of the driver is there (as $who)" plain_has_nothing
  info "inside (as $who): $(k exec gpu -- nvidia-smi -L 2>&1 | head -1)"
  info "inside (as $who): $(k exec gpu -- /opt/tools/saxpy 2>&1 | tail -1)"
  k inspect gpu 2>&1 | sed -n '/^gpu:/,$p' | sed "s/^/INFO inspect ($who): /"
  if [ -n "$logs" ]; then
    k exec gpu -- sh -c 'ls -la /run/host/nvidia/*; ldconfig -p | grep /run/host' >> "$logs/nvidia-check.log" 2>&1
    k --json inspect gpu >> "$logs/nvidia-check.log" 2>&1
  fi
  # What the GPU step costs an exec: 20 runs each, median.
  for kind in gpu plain; do
    us=$(for i in $(seq 20); do
      s=$(date +%s%N); k exec $kind -- true >/dev/null 2>&1; e=$(date +%s%N)
      echo $(((e - s) / 1000))
    done | sort -n | sed -n 10p)
    info "exec -- true, $kind environment (as $who): median $((us / 1000)).$(((us % 1000) / 100)) ms of 20"
  done
}
k() {
  if [ "$who" = root ]; then
    kp --store "$dir/store" "$@"
  else
    runuser -u "$who" -- env -C "$dir" HOME="$(getent passwd "$who" | cut -d: -f6)" \
      LD_LIBRARY_PATH="$w/lib" "$w/bin/karapace" --store "$dir/store" "$@"
  fi
}

# The same through a CDI spec, written here the way nvidia-ctk lays one out (every library file
# of the driver's directory, nvidia-smi, the device nodes, an update-ldcache hook), so the
# spec-reading path meets the real driver's files: sonames read from its ELF libraries.
root=${KARAPACE_GPU_HOST_ROOT:-}
write_cdi_spec() {
  local libdir=$1 n f
  echo "cdiVersion: 0.5.0"
  echo "kind: nvidia.com/gpu"
  # Each GPU by index and by UUID, and "all", as nvidia-ctk names them.
  echo "devices:"
  local info index uuid minor
  for info in "$root"/proc/driver/nvidia/gpus/*/information; do
    [ -f "$info" ] || continue
    uuid=$(awk -F': *' '/GPU UUID/ { gsub(/[ \t]/, "", $2); print $2 }' "$info")
    minor=$(awk -F': *' '/Device Minor/ { gsub(/[ \t]/, "", $2); print $2 }' "$info")
    index=${index:--1}
    index=$((index + 1))
    for name in "\"$index\"" "$uuid"; do
      printf -- '- name: %s\n  containerEdits:\n    deviceNodes:\n    - path: /dev/nvidia%s\n' "$name" "$minor"
    done
  done
  echo "- name: all"
  echo "  containerEdits:"
  echo "    deviceNodes:"
  for n in "$root"/dev/nvidia[0-9]*; do echo "    - path: ${n#$root}"; done
  echo "containerEdits:"
  echo "  deviceNodes:"
  for n in /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools; do
    [ ! -e "$root$n" ] || echo "  - path: $n"
  done
  echo "  hooks:"
  echo "  - hookName: createContainer"
  echo "    path: /usr/bin/nvidia-ctk"
  echo "    args: [nvidia-ctk, hook, update-ldcache, --folder, $libdir]"
  echo "  mounts:"
  for f in $(cd "$root$libdir" && find . -maxdepth 1 -type f -name 'lib*.so.*' | sort); do
    printf '  - hostPath: %s\n    containerPath: %s\n    options: [ro, nosuid, nodev, bind]\n' \
      "$libdir/${f#./}" "$libdir/${f#./}"
  done
  # The program beside the libraries first: /usr/bin/nvidia-smi can be a wrapper script that
  # runs it by its host path.
  for f in "$(realpath -m "$libdir/../bin/nvidia-smi")" /usr/bin/nvidia-smi; do
    [ -x "$root$f" ] || continue
    printf '  - hostPath: %s\n    containerPath: /usr/bin/nvidia-smi\n    options: [ro, nosuid, nodev, bind]\n' "$f"
    break
  done
}
cdi_source() { k --json inspect gpu | grep -q '"source": "cdi"'; }
cdi_scenario() {
  who=$1
  dir=$w/$who
  check "with a CDI spec, inspect names it as the source (as $who)" cdi_source
  check "with a CDI spec, nvidia-smi -L lists the GPU inside (as $who)" smi_lists_gpu
  [ ! -x "$w/tools/saxpy" ] ||
    check "with a CDI spec, the CUDA program computes the right result inside (as $who)" cuda_runs_inside
}

# Vulkan outside karapace first: the rootfs's own vulkaninfo in a plain chroot, as root, with the
# host's driver directory bound at its path and named by VK_DRIVER_FILES and LD_LIBRARY_PATH,
# in a mount namespace of its own that ends with it. When that fails, the machine cannot run
# Vulkan with this loader, and the check inside says nothing about karapace.
vulkan_outside=""
libglx=$(ldconfig -p -C "$root/etc/ld.so.cache" | awk '/libGLX_nvidia.so.0 .*x86-64/ { print $NF; exit }')
icd=$(ls "$root"/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json "$root"/etc/vulkan/icd.d/nvidia_icd*.json \
  "$root"/usr/share/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
if [ -n "$root" ] || [ -z "$libglx" ] || [ -z "$icd" ]; then
  vulkan_outside="no NVIDIA Vulkan driver on this host to compare with"
else
  mkdir -p "$w/vkroot" && tar -xzf "$w/rootfs.tar.gz" -C "$w/vkroot"
  libdir=$(dirname "$(realpath "$libglx")")
  out=$(unshare -m --propagation private sh -c '
    r=$1 libdir=$2 icd=$3
    for d in "$libdir" "$(dirname "$icd")"; do mkdir -p "$r$d" && mount --bind "$d" "$r$d"; done
    mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && mount --rbind /sys "$r/sys"
    chroot "$r" env VK_DRIVER_FILES="$icd" LD_LIBRARY_PATH="$libdir" vulkaninfo --summary' \
    sh "$w/vkroot" "$libdir" "$icd" 2>&1)
  if echo "$out" | grep -qE 'deviceName +=.*NVIDIA'; then
    info "outside karapace, vulkaninfo sees $(echo "$out" | grep -m1 -E 'deviceName' | sed 's/.*= *//')"
  else
    vulkan_outside="the same vulkaninfo fails outside karapace on this machine: $(echo "$out" | grep -m1 -E 'ERROR|error' || echo "$out" | tail -1)"
    [ -z "$logs" ] || printf '== vulkaninfo outside karapace\n%s\n' "$out" >> "$logs/nvidia-check.log"
  fi
fi

scenario root
scenario $user
libcuda=$(ldconfig -p -C "$root/etc/ld.so.cache" | awk '/libcuda.so.1 .*x86-64/ { print $NF; exit }')
if [ -n "$libcuda" ] && [ ! -e "$root/etc/cdi/nvidia.yaml" ]; then
  mkdir -p "$root/etc/cdi"
  write_cdi_spec "$(dirname "$libcuda")" > "$root/etc/cdi/nvidia.yaml"
  info "a CDI spec with $(grep -c hostPath "$root/etc/cdi/nvidia.yaml") mounts written to $root/etc/cdi/nvidia.yaml"
  [ -z "$logs" ] || cp "$root/etc/cdi/nvidia.yaml" "$logs/cdi-spec.yaml"
  cdi_scenario root
  cdi_scenario $user
  k inspect gpu 2>&1 | sed -n '/^gpu:/,$p' | sed "s/^/INFO inspect with the CDI spec ($user): /" | head -4
  rm -f "$root/etc/cdi/nvidia.yaml"
else
  info "the CDI check is skipped: $([ -n "$libcuda" ] && echo "a CDI spec exists already" || echo "no libcuda.so.1 in the host's ld.so.cache")"
fi
kp doctor 2>&1 | grep -i -E 'gpu|nvidia' | sed 's/^/INFO doctor: /'
echo "RESULT $failures failure(s)"
exit $failures
