# A store with many environments, for the benchmarks that need one (many_envs_bench.sh,
# tui_bench.sh). Source it, then call make_many_envs.
#
# The environments are real builds into a real store (metadata records, name index, lock
# objects, env directories), made cheap by the busybox fixture: the image is fetched and unpacked
# once, and each further manifest differs only in `[gui] apps` (an identity field that changes
# nothing at run time), so each build is a distinct environment that writes records only.
# 1,000 environments take about a minute to create.

# make_many_envs KARAPACE WORKDIR COUNT: builds COUNT environments env-0001... into WORKDIR/store
# from manifests in WORKDIR/envs/<n>/; sets $image to the pinned image reference they use.
make_many_envs() {
  local kp=$1 work=$2 count=$3 here tarball started n i
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  tarball=$(sh "$here/../fixtures/make-busybox-rootfs.sh" "$work/img")
  # The pinned form: every build after the first finds the image in the cache by its digest.
  image="file://$tarball#sha256=$(sha256sum "$tarball" | cut -d' ' -f1)"
  started=$(date +%s)
  for i in $(seq -w 1 "$count"); do
    many_envs_manifest "$work/envs/$i" "bench-$i"
    (cd "$work/envs/$i" && "$kp" --store "$work/store" build --name "env-$i" >/dev/null)
  done
  echo "created $count environments in $(($(date +%s) - started)) s" >&2
  n=$(ls "$work/store/metadata" | wc -l)
  [ "$n" -eq "$count" ] || { echo "expected $count environment records, found $n" >&2; return 1; }
}

# many_envs_manifest DIR APP: a manifest of the busybox image whose [gui] apps is APP.
many_envs_manifest() {
  mkdir -p "$1"
  printf 'manifest_version = 1\n[base]\nimage = "%s"\n[gui]\napps = ["%s"]\n' "$image" "$2" \
    >"$1/karapace.toml"
}
