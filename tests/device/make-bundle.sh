#!/usr/bin/env bash
# Makes the folder tests/device/nvidia.sh needs on a machine with an NVIDIA GPU that has neither
# network nor Debian packages: a stripped `karapace` (with karapace-init and karapace-full), the
# libraries it loads on demand (libarchive and what it needs, libcrypto), Debian's
# newuidmap/newgidmap with their libraries,
# and a small glibc rootfs: libc6, libstdc++6, libgcc-s1, libc-bin, busybox-static and vulkaninfo
# (vulkan-tools with the Vulkan loader and the X libraries it links) of Debian
# $ROOTFS_SUITE (default trixie: its glibc 2.41 is newer than the GPU machines', so a program
# built there runs inside). Run on Debian 12 after building; the rootfs packages come from the
# host's Debian mirror (apt-get download, with a private package list for another suite).
# Usage: tests/device/make-bundle.sh [BUILD_DIR] [OUT_DIR]   (defaults: build .device-bundle)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
out=${2:-.device-bundle}
stage=$(mktemp -d /tmp/karapace-bundle.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/b/bin" "$stage/b/lib" "$stage/b/uidmap/lib" "$stage/debs" "$stage/rootfs"

strip -o "$stage/b/bin/karapace" "$build/src/cli/karapace"
# Found beside karapace: the sandboxes' init, and the CLI that runs what the static karapace
# hands over (build, pull, ...; absent where karapace is linked dynamically).
strip -o "$stage/b/bin/karapace-init" "$build/src/cli/karapace-init"
if [ -x "$build/src/cli/karapace-full" ]; then
  strip -o "$stage/b/bin/karapace-full" "$build/src/cli/karapace-full"
fi

# The shared objects `$1` needs, but glibc's own (the target has a newer glibc).
deps() {
  ldd "$1" | awk '$3 ~ /^\// { print $3 }' |
    grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' || true
}
libarchive=$(ldconfig -p | awk '/libarchive.so.13 .*x86-64/ { print $NF; exit }')
libcrypto=$(ldconfig -p | awk '/libcrypto.so.3 .*x86-64/ { print $NF; exit }')
for f in "$libarchive" "$libcrypto" $(deps "$libarchive") $(deps "$libcrypto"); do
  cp -L "$f" "$stage/b/lib/"
done
for tool in newuidmap newgidmap; do
  cp "$(command -v $tool)" "$stage/b/uidmap/"
  for f in $(deps "$(command -v $tool)"); do cp -L "$f" "$stage/b/uidmap/lib/"; done
done

# The rootfs: Debian packages unpacked, an ld.so.cache, the few files a user namespace needs.
suite=${ROOTFS_SUITE:-trixie}
mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  head -1 | tr -d ' ' || true)
lists=$stage/apt-lists
mkdir -p "$lists/partial" "$stage/apt-archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian} $suite main" \
  > "$stage/sources.list"
apt_opts=(-q -o Dir::Etc::SourceList="$stage/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$lists" -o Dir::Cache::Archives="$stage/apt-archives"
  -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update >/dev/null
# vulkaninfo and what it needs, to see the Vulkan driver manifest at work.
(cd "$stage/debs" && apt-get "${apt_opts[@]}" download libc6 libgcc-s1 libstdc++6 busybox-static \
  libc-bin libvulkan1 vulkan-tools libffi8 libwayland-client0 libx11-6 libx11-data libxau6 libxcb1 \
  libxdmcp6 libxext6 >/dev/null)
r=$stage/rootfs
for deb in "$stage"/debs/*.deb; do dpkg -x "$deb" "$r"; done
# Merged /usr (Debian 13 ships its files below /usr only): the top-level links base-files makes.
for d in bin sbin lib lib64; do
  if [ -d "$r/usr/$d" ] && [ ! -L "$r/$d" ]; then
    if [ -d "$r/$d" ]; then cp -a "$r/$d/." "$r/usr/$d/" && rm -rf "${r:?}/$d"; fi
    ln -s "usr/$d" "$r/$d"
  fi
done
busybox=$(cd "$r" && ls usr/bin/busybox bin/busybox 2>/dev/null | head -1)
for applet in sh ls cat echo grep id env true false test mkdir tr head wc sed uname; do
  ln -sf busybox "$r/$(dirname "$busybox")/$applet"
done
mkdir -p "$r/tmp" "$r/root" "$r/home" "$r/proc" "$r/sys" "$r/dev" "$r/run" "$r/etc"
chmod 1777 "$r/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
echo 'root:x:0:' > "$r/etc/group"
ldconfig -r "$r"
rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/locale" "$r/usr/share/lintian"
tar -C "$r" --numeric-owner --owner=0 --group=0 -czf "$stage/b/rootfs.tar.gz" .

# The CUDA check program built here too, for a rootfs whose glibc is older than the target's
# (nvidia.sh builds its own first and uses this one only when that one needs a newer glibc).
nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null | head -1 || true)
if [ -n "$nvcc" ]; then
  cudalib=$(dirname "$(find "$(dirname "$nvcc")/.." -name libcudart_static.a | head -1)")
  "$nvcc" -c -o "$stage/saxpy.o" tests/device/saxpy.cu
  g++ -o "$stage/b/bin/saxpy-prebuilt" "$stage/saxpy.o" -L"$cudalib" -lcudart_static -ldl \
    -lpthread -lrt -static-libstdc++ -static-libgcc
fi

mkdir -p "$out"
tar -C "$stage/b" -czf "$out/bundle.tar.gz" .
ls -la "$out"
