#!/usr/bin/env bash
# The wrap files in subprojects/ for distributions without toml11 or Catch2 2.x: a copy of the
# source tree is configured with --force-fallback-for=toml11,catch2 and builds a translation unit
# that includes each. This host has no network for the downloads, so the subproject directories
# are staged from the system's copies of the same headers, and the wraps' packagefiles (our
# meson.build for each) are laid over them as meson does after a download.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -f /usr/include/toml.hpp ] && [ -d /usr/include/toml ] || kp_skip "toml11 headers are not installed (libtoml11-dev)"
[ -f /usr/include/catch2/catch.hpp ] || kp_skip "Catch2 2.x is not installed (catch2)"
command -v meson >/dev/null && command -v ninja >/dev/null || kp_skip "meson and ninja are not installed"

work=$(mktemp -d /tmp/karapace-wraps.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$src" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$work" -xf -
sub=$work/subprojects
for w in toml11 catch2 sdbus-cpp; do
  [ -f "$sub/$w.wrap" ] || kp_fail "subprojects/$w.wrap is missing"
  grep -q '^source_hash = [0-9a-f]\{64\}$' "$sub/$w.wrap" || kp_fail "$w.wrap has no sha256 source_hash"
done
dir_of() { sed -n 's/^directory = //p' "$sub/$1.wrap"; }
toml=$sub/$(dir_of toml11)
catch=$sub/$(dir_of catch2)
mkdir -p "$toml" "$catch/single_include"
cp -r /usr/include/toml.hpp /usr/include/toml "$toml/"
cp -r /usr/include/catch2 "$catch/single_include/"
cp "$sub/packagefiles/toml11/meson.build" "$toml/"
cp "$sub/packagefiles/catch2/meson.build" "$catch/"

out=$(cd "$work" && meson setup b --wrap-mode=nodownload --force-fallback-for=toml11,catch2 \
  -Ddbus=disabled 2>&1) || kp_fail "meson setup with the fallbacks failed: $(echo "$out" | tail -15)"
for d in toml11 catch2; do
  kp_contains "$out" "Executing subproject $d"
  echo "$out" | grep -q "^Dependency $d .*found: YES" || kp_fail "meson did not use the $d subproject: $(echo "$out" | grep -i "$d")"
done
kp_ok "meson takes toml11 and Catch2 from their wraps"

# src/lib/schema/toml_reader.cpp includes toml.hpp; Catch2's main includes catch2/catch.hpp.
toml_tu=$(cd "$work/b" && ninja -t targets all | sed -n 's/^\([^:]*schema_toml_reader\.cpp\.o\):.*/\1/p' | head -n 1)
catch_tu=$(cd "$work/b" && ninja -t targets all | sed -n 's/^\([^:]*catch_main\.cpp\.o\):.*/\1/p' | head -n 1)
[ -n "$toml_tu" ] && [ -n "$catch_tu" ] || kp_fail "no target to compile: '$toml_tu' '$catch_tu'"
out=$(ninja -C "$work/b" -j2 "$toml_tu" "$catch_tu" 2>&1) || kp_fail "compiling with the subprojects failed: $(echo "$out" | tail -15)"
kp_ok "$toml_tu and $catch_tu compile against the subprojects' headers"
