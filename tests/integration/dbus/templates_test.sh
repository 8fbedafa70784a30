#!/bin/bash
# ListTemplates and CreateFromTemplate: the templates `karapace new` offers (the same text as
# examples/<name>.toml), and a karapace.toml written from one into a new directory; an unknown
# template is NotFound, a relative directory InvalidArgs, an existing manifest Conflict unless
# force is set.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"
examples=${KARAPACE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}/examples

list=$(kp_call_json ListTemplates)
names=$(echo "$list" | jq -r '[.data[0][][0]] | join(" ")')
[ "$names" = "minimal dev gui-dev rust-dev ubuntu-dev debian-dev" ] || kp_fail "ListTemplates names: $names"
for name in $names; do
  [ "$(echo "$list" | jq -r --arg n "$name" '.data[0][] | select(.[0] == $n) | .[2]')" = "$(cat "$examples/$name.toml")" ] ||
    kp_fail "the text of template $name differs from examples/$name.toml"
  [ -n "$(echo "$list" | jq -r --arg n "$name" '.data[0][] | select(.[0] == $n) | .[1]')" ] ||
    kp_fail "template $name has no description"
done
kp_ok "ListTemplates gives the six templates of karapace new with descriptions and their manifests"

dir=$KP_TMP/projects/web
out=$(kp_call CreateFromTemplate ssa{sv} dev "$dir" 1 env_name s web)
[ "$out" = "s \"$dir/karapace.toml\"" ] || kp_fail "CreateFromTemplate returned: $out"
head -n 1 "$dir/karapace.toml" | grep -q "^# Environment 'web', written from the 'dev' template.$" ||
  kp_fail "header: $(head -n 1 "$dir/karapace.toml")"
[ "$(tail -n +2 "$dir/karapace.toml")" = "$(cat "$examples/dev.toml")" ] || kp_fail "the manifest is not the dev template"
kp_ok "CreateFromTemplate creates the directory and writes the template's manifest"

[ "$(kp_call_error CreateFromTemplate dev "$dir" "@a{sv} {}")" = org.karapace.Error.Conflict ] ||
  kp_fail "an existing karapace.toml was not a Conflict"
kp_call CreateFromTemplate ssa{sv} minimal "$dir" 1 force b true >/dev/null
[ "$(tail -n +2 "$dir/karapace.toml")" = "$(cat "$examples/minimal.toml")" ] || kp_fail "force did not replace the manifest"
[ "$(kp_call_error CreateFromTemplate no-such "$KP_TMP/x" "@a{sv} {}")" = org.karapace.Error.NotFound ] ||
  kp_fail "an unknown template was not NotFound"
[ "$(kp_call_error CreateFromTemplate dev relative/dir "@a{sv} {}")" = org.karapace.Error.InvalidArgs ] ||
  kp_fail "a relative directory was not InvalidArgs"
[ "$(kp_call_error CreateFromTemplate dev "$KP_TMP/y" "{'colour': <'red'>}")" = org.karapace.Error.InvalidArgs ] ||
  kp_fail "an unknown option was not InvalidArgs"
[ -e "$KP_TMP/x" ] || [ -e "$KP_TMP/y" ] && kp_fail "a refused call created a directory"
kp_ok "Conflict without force, NotFound for an unknown template, InvalidArgs for bad arguments"
