# Shared by the Qt and GLib client tests: runs a generated client against the service on the
# private bus for a slow busybox build and checks what it printed. Source after fixtures.sh.
# kp_check_client LABEL BINARY NAME
kp_check_client() {
  local label=$1 client=$2 name=$3 url manifest out values distinct prev v
  url=$(kp_serve_busybox 0 131072)
  manifest=$(kp_busybox_manifest "$KP_TMP/project-$name" "$url")
  out=$(timeout 180 "$client" "$KP_ADDR" "$manifest" "$name" 2>&1) ||
    kp_fail "the $label client failed: $out"
  echo "$out" | grep -q '^environments 0$' || kp_fail "the $label client did not list environments: $out"
  echo "$out" | grep -q "^finished succeeded [0-9a-f]\{64\} \$" || kp_fail "the $label client saw no successful Finished: $out"
  echo "$out" | grep -q "^result name $name\$" || kp_fail "the $label client did not read the job's Result: $out"
  values=$(echo "$out" | sed -n 's/^progress //p')
  distinct=$(echo "$values" | grep -v '^-1$' | sort -un | wc -l)
  [ "$distinct" -ge 10 ] || kp_fail "the $label client saw $distinct Progress values: $(echo $values)"
  prev=-2
  for v in $values; do
    [ "$v" -gt "$prev" ] || kp_fail "the $label client saw Progress go from $prev to $v"
    prev=$v
  done
  [ "$(kp_call_json ListEnvironments | jq -r '.data[0][0][2]')" = "$name" ] || kp_fail "the build of the $label client is not listed"
  kp_ok "a $label client generated from our XML lists environments, follows a build's $distinct Progress values to Finished and reads the result"
}
