#!/usr/bin/env bash
# Integration tests of the namespace sandbox on a busybox rootfs, through sandbox-driver.
# Usage: sandbox_test.sh <sandbox-driver> <sandbox-probe> [--as-user <workdir>]
# Run as root, the suite runs as root and then again as the unprivileged test user.
. "$(dirname "$0")/../lib.sh"
set +e

DRIVER=$1
PROBE=$2
NO_NETNS=$(dirname "$0")/no_netns.py
MODE=${3:-}
USER_WORKDIR=${4:-}
failures=0
passes=0

ok() { passes=$((passes + 1)); echo "ok - [$WHO] $*"; }
bad() { failures=$((failures + 1)); echo "not ok - [$WHO] $*"; }
skip() { echo "skip - [$WHO] $*"; }
# expect <description> <expected> <actual>
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi; }
expect_in() { case "$3" in *"$2"*) ok "$1" ;; *) bad "$1: '$2' not in '$3'" ;; esac; }
expect_not_in() { case "$3" in *"$2"*) bad "$1: '$2' found in '$3'" ;; *) ok "$1" ;; esac; }

make_rootfs() { # <dir>
    local busybox
    busybox=$(command -v busybox) || kp_skip "busybox (busybox-static) is not installed"
    ldd "$busybox" >/dev/null 2>&1 && kp_skip "$busybox is not static (install busybox-static)"
    mkdir -p "$1"/{bin,etc,tmp,root,home,proc,sys,dev,run}
    cp "$busybox" "$1/bin/busybox"
    for c in $("$busybox" --list); do [ "$c" = busybox ] || ln -s busybox "$1/bin/$c"; done
    cp "$PROBE" "$1/bin/probe"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
    printf 'root:x:0:\n' >"$1/etc/group"
    printf 'not a program\n' >"$1/bin/notexec"
    chmod 644 "$1/bin/notexec"
    chmod 1777 "$1/tmp"
}

suite() {
    local W=$1 uid home out rc pid
    uid=$(id -u)
    home=$HOME
    local BASE=$W/base UP WK layer=0
    # Fresh upper/work dirs (the overlay leaves a mode 000 work/work behind, so no rm -rf).
    fresh_layers() {
        layer=$((layer + 1))
        UP=$W/upper.$layer WK=$W/work.$layer
        mkdir -p "$UP" "$WK"
        RUN=("$DRIVER" --lower "$BASE" --upper "$UP" --work "$WK" --hostname kp-test)
    }
    local RUN
    fresh_layers
    run() { "${RUN[@]}" "$@"; }

    # --- identity
    expect "keep-id: the user keeps its uid inside" "$uid" "$(run -- id -u)"
    expect "build: the user is container root" "0" "$(run --build -- id -u)"
    touch "$home/.kp-owned-$$"
    expect "files in \$HOME keep their owner" "$uid" "$(run -- stat -c %u "$home/.kp-owned-$$")"
    rm -f "$home/.kp-owned-$$"
    expect "the hostname is the environment's" "kp-test" "$(run -- hostname)"

    # --- the kept user namespace (unprivileged, with sub-ids): entered by a helper, or by the
    # caller itself when it exits after the run (SandboxSpec::caller_exits), never by one that
    # goes on (a TUI running a shell and then building).
    if [ "$MODE" = "--as-user" ] && grep -q "^$(id -un):" /etc/subuid; then
        local krun=$W/keeper-run ns0 goes_on exits kept keeper
        mkdir -p "$krun" && chmod 700 "$krun"
        ns_after() {
            XDG_RUNTIME_DIR=$krun KARAPACE_KEEPER_IDLE=60 SANDBOX_DRIVER_SHOW_USERNS=1 \
                run "$@" -- true 2>&1 >/dev/null | sed -n 's/^userns: //p'
        }
        ns0=$(readlink /proc/self/ns/user)
        goes_on=$(ns_after)
        exits=$(ns_after --caller-exits)
        keeper=$(cut -d' ' -f1 "$krun/karapace/userns-keep-id" 2>/dev/null)
        kept=$(readlink "/proc/$keeper/ns/user" 2>/dev/null)
        if [ -z "$kept" ] || [ "$kept" = "$ns0" ]; then
            bad "the runs left no keeper in a namespace of its own (record: '$keeper')"
        else
            expect "a caller that goes on after the run keeps its own user namespace" "$ns0" "$goes_on"
            expect "a caller that exits after the run enters the kept one itself" "$kept" "$exits"
            expect "its command runs as the user" "$uid" \
                "$(XDG_RUNTIME_DIR=$krun run --caller-exits -- id -u)"
        fi
        [ -n "$keeper" ] && kill -9 "$keeper" 2>/dev/null
    fi
    if [ "$uid" != 0 ]; then
        expect_in "the user has a passwd entry inside" "$(id -un):x:$uid" "$(run -- cat /etc/passwd)"
        expect "image root files stay root-owned across build and keep-id" \
            "$(run --build -- stat -c %u /etc/passwd)" "0"
    fi

    # --- overlay
    run --build -- sh -c 'echo new > /newfile; rm /bin/notexec' 
    expect "a write lands in the upper layer" "new" "$(cat "$UP/newfile" 2>/dev/null)"
    [ ! -e "$BASE/newfile" ] && [ -e "$BASE/bin/notexec" ] && ok "the lower layer is untouched" ||
        bad "the lower layer was modified"
    expect "a deleted lower file is a whiteout in upper" "c 0:0" \
        "$(stat -c '%F' "$UP/bin/notexec" | sed 's/character special file/c/') $(stat -c '%t:%T' "$UP/bin/notexec")"
    run --volatile -- sh -c 'echo v > /volatile-file'
    expect "a volatile run writes to the upper layer" "v" "$(cat "$UP/volatile-file" 2>/dev/null)"
    expect "a normal run after a volatile one mounts the same layer" "v" "$(run -- cat /volatile-file)"
    run --volatile -- true
    echo "00000000-not-this-boot" >"$WK/karapace-volatile-boot"
    out=$(run -- true 2>&1); rc=$?
    expect "a volatile layer left by an earlier boot is refused (125)" "125" "$rc"
    expect_in "the refusal says why" "may be inconsistent" "$out"
    fresh_layers
    out=$("$DRIVER" --lower "$BASE" --ro --hostname kp-test -- sh -c 'touch /x 2>&1; echo rc=$?')
    expect_in "a frozen environment refuses writes with EROFS" "Read-only file system" "$out"
    expect_in "a frozen environment still runs" "rc=1" "$out"

    # --- /dev
    expect "/dev holds only the minimal nodes" \
        "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" \
        "$(run -- ls /dev | tr '\n' ' ' | sed 's/ $//')"
    expect "/dev/null works" "" "$(run -- sh -c 'echo x > /dev/null; cat /dev/null')"
    if [ -e /dev/dri ]; then
        expect "gpu = true adds /dev/dri" "yes" "$(run --gpu -- sh -c '[ -d /dev/dri ] && echo yes')"
    else
        skip "the host has no /dev/dri, so gpu = true cannot show it"
    fi
    expect "without gpu there is no /dev/dri" "no" "$(run -- sh -c '[ -e /dev/dri ] && echo yes || echo no')"
    expect_not_in "no host block device is visible" "vda" "$(run --gpu --audio -- ls /dev)"
    # /dev, /dev/shm and /run are directories of the sandbox's own tmpfs (the one holding its
    # generated /etc files), not a tmpfs each; new for every sandbox, with the modes a tmpfs of
    # their own had.
    out=$(run -- sh -c 'stat -c "%a" /dev /dev/shm /run
        d=$(stat -c %d /etc/hostname); for p in /dev /dev/shm /run; do
            [ "$(stat -c %d $p)" = "$d" ] || echo "$p-apart"; done
        echo "shm:$(ls -A /dev/shm | wc -l)"; echo left >/dev/shm/f && echo >/run/f && echo writable')
    expect "/dev, /dev/shm and /run: modes, one tmpfs with /etc's files, writable" \
        "755 1777 755 shm:0 writable" "$(echo $out)"
    expect "what /dev/shm held ended with its sandbox" "" "$(run -- ls -A /dev/shm)"

    # --- host sockets bound as files
    local rt=$W/runtime
    mkdir -p "$rt/pulse" && chmod 700 "$rt"
    "$PROBE" listen "$rt/wayland-kp" >"$W/listen.out" &
    pid=$!
    for _ in $(seq 50); do grep -q listening "$W/listen.out" 2>/dev/null && break; sleep 0.05; done
    out=$(XDG_RUNTIME_DIR=$rt WAYLAND_DISPLAY=wayland-kp run -- sh -c \
        "test -S $rt/wayland-kp && echo socket; probe connect $rt/wayland-kp && echo connected")
    expect "a Wayland socket is bound as a socket file and connectable" "socket connected" \
        "$(echo $out)"
    wait $pid; expect "the host listener saw the connection" "0" "$?"
    "$PROBE" listen "$rt/pulse/native" >"$W/listen2.out" &
    pid=$!
    for _ in $(seq 50); do grep -q listening "$W/listen2.out" 2>/dev/null && break; sleep 0.05; done
    expect "a PulseAudio socket is connectable inside" "0" \
        "$(XDG_RUNTIME_DIR=$rt run -- probe connect "$rt/pulse/native"; echo $?)"
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    expect "build runs get no host sockets" "no" \
        "$(XDG_RUNTIME_DIR=$rt run --build -- sh -c "[ -e $rt/pulse/native ] && echo yes || echo no")"

    # --- environment
    out=$(AWS_SECRET_ACCESS_KEY=s1 GITHUB_TOKEN=s2 MY_API_TOKEN=s3 DB_PASSWORD=s4 LANG=C.UTF-8 \
        run --env FOO=bar -- env)
    expect_not_in "AWS secrets stay outside" "s1" "$out"
    expect_not_in "tokens stay outside" "s2" "$out"
    expect_not_in "*_TOKEN stays outside" "s3" "$out"
    expect_not_in "passwords stay outside" "s4" "$out"
    expect_in "--env passes" "FOO=bar" "$out"
    expect_in "the locale passes" "LANG=C.UTF-8" "$out"
    expect_in "container=karapace is set" "container=karapace" "$out"
    expect_in "KARAPACE_ENV names the environment" "KARAPACE_ENV=kp-test" "$out"

    # --- working directory
    mkdir -p "$home/kp-cwd-$$"
    expect "the caller's cwd inside \$HOME is kept" "$home/kp-cwd-$$" \
        "$(cd "$home/kp-cwd-$$" && run -- pwd)"
    rmdir "$home/kp-cwd-$$"
    expect "a cwd outside shared paths becomes \$HOME" "$home" "$(cd / && run -- pwd)"

    # --- manifest mounts
    mkdir -p "$W/data" && echo shared >"$W/data/file"
    expect "a manifest mount is visible" "shared" "$(run --mount "$W/data:/data" -- cat /data/file)"
    out=$(run --mount "$W/data:/data:ro" -- sh -c 'touch /data/new 2>&1')
    expect_in "a :ro manifest mount refuses writes" "Read-only file system" "$out"
    ln -s /etc "$W/swapped"
    out=$(run --mount "$W/swapped:/data" -- true 2>&1); rc=$?
    expect "a symlink-swapped mount source is refused (status 125)" "125" "$rc"
    expect_in "the refusal names the symlink" "symlink" "$out"
    expect "cwd inside a manifest mount is translated" "/data" \
        "$(cd "$W/data" && run --mount "$W/data:/data" -- pwd)"

    # --- network isolation
    out=$(run --net-isolate -- cat /proc/net/dev | sed -n '3,$p' | awk -F: '{gsub(/ /,"",$1); print $1}' | tr '\n' ' ')
    expect "network isolation leaves only lo" "lo " "$out"
    expect "/sys shows only the sandbox's network devices" "lo" "$(run --net-isolate -- ls /sys/class/net)"
    if [ -n "$(ls -A /sys/firmware 2>/dev/null)" ]; then
        expect "/sys/firmware stays hidden below the new sysfs" "" \
            "$(run --net-isolate -- ls -A /sys/firmware 2>&1)"
    else
        skip "/sys/firmware below the new sysfs: the host's is empty"
    fi
    expect "outside addresses are unreachable" "1" \
        "$(run --net-isolate -- probe tcp 1.1.1.1 80 2>/dev/null; echo $?)"
    expect "127.0.0.1 works inside" "0" \
        "$(run --net-isolate -- sh -c 'nc -l -p 8123 >/dev/null & sleep 0.2; probe tcp 127.0.0.1 8123'; echo $?)"
    # The namespace is made beside the child's first steps and entered before its mounts: the
    # command, and what it starts, are in it (not in the host's, nor in each other's across runs).
    local host_net first_net
    host_net=$(readlink /proc/self/ns/net)
    first_net=$(run --net-isolate -- sh -c 'a=$(readlink /proc/self/ns/net); b=$(sh -c "readlink /proc/\$\$/ns/net"); [ "$a" = "$b" ] && echo "$a"')
    expect_in "the command and its child share a network namespace" "net:[" "$first_net"
    expect_not_in "it is not the host's" "$host_net" "$first_net"
    expect_not_in "nor the next run's" "$first_net" "$(run --net-isolate -- readlink /proc/self/ns/net)"
    # The start stays on the caller's processor (cpus.hpp), also with the namespace's maker
    # beside it: init on one processor, the command on the caller's.
    local all cpus
    all=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
    if [ "$(nproc)" -ge 2 ]; then
        local net label
        for net in "" --net-isolate; do
            label="with the host's network"
            [ -z "$net" ] || label="with $net"
            cpus=$(KARAPACE_SAME_CPU=1 run $net -- sh -c 'sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status /proc/1/status' | tr '\n' ' ')
            if kp_init_on_one_cpu "$cpus" "$all"; then
                ok "$label: init on one processor, the command on the caller's ($cpus)"
            else
                bad "$label: init and the command on '$cpus', not one processor and '$all'"
            fi
        done
        # On a busy machine (a busy loop per processor) nothing is narrowed, and the builder
        # makes the network namespace itself instead of a process beside it.
        kp_start_busy
        cpus=$(run --net-isolate -- sh -c 'sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/1/status; sed -n "3,\$p" /proc/net/dev | cut -d: -f1 | tr -d " "' | tr '\n' ' ')
        kp_end_busy
        expect "on a busy machine: init on the caller's processors, the network namespace made, only lo" "$all lo " "$cpus"
    else
        skip "the processors a start stays on: this test may use one processor only"
    fi
    # A start that fails while the namespace is being made ends (its maker killed and reaped),
    # with the error of what failed.
    out=$(timeout 20 "$DRIVER" --lower "$W/no-such-layer" --upper "$UP" --work "$WK" \
        --net-isolate -- true 2>&1); rc=$?
    expect "a failed start with network isolation ends with status 125" "125" "$rc"
    expect_in "its error names the missing layer" "no-such-layer" "$out"
    # Where the kernel refuses network namespaces (a seccomp filter here, as a container manager
    # or user.max_net_namespaces = 0 would): the process making it says so, through the child.
    # As root only: the filter needs no_new_privs, which the set-uid id-map helpers cannot run
    # under.
    if [ "$WHO" = root ]; then
        out=$(timeout 20 "$NO_NETNS" "${RUN[@]}" --net-isolate -- true 2>&1); rc=$?
        if [ "$rc" = 77 ]; then
            skip "a refused network namespace: $out"
        else
            expect "a refused network namespace ends the start with status 125" "125" "$rc"
            expect_in "and says what was refused" "cannot make the sandbox's network namespace: Operation not permitted" "$out"
            expect_in "and what to check" "user.max_net_namespaces" "$out"
            expect "without network isolation the same filter lets it run" "ok" \
                "$(timeout 20 "$NO_NETNS" "${RUN[@]}" -- echo ok 2>&1)"
        fi
    fi

    # --- limits
    out=$(SANDBOX_DRIVER_SHOW_LIMITS=1 run --memory 104857600 -- sh -c \
        'probe alloc 16 && echo small-ok; probe alloc 400 2>/dev/null || echo big-failed' 2>&1)
    expect_in "a small allocation fits the memory limit" "small-ok" "$out"
    expect_in "an allocation over the memory limit fails" "big-failed" "$out"
    expect_in "the mechanism in force is reported" "limits: " "$out"
    mechanism=$(echo "$out" | sed -n 's/^limits: //p')
    if [ "$uid" = 0 ] && [ "$mechanism" = rlimit ]; then
        # The kernel exempts real root from RLIMIT_NPROC (its processes belong to INIT_USER).
        skip "the task limit through rlimits does not bind real root"
    else
        out=$(run --tasks 5 -- sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done 2>&1; wait' 2>&1)
        expect_in "the task limit stops a fork bomb ($mechanism)" "fork" "$(echo "$out" | tr 'F' 'f')"
    fi

    # --- exit codes
    expect "the command's status is returned" "7" "$(run -- sh -c 'exit 7'; echo $?)"
    expect "status 0" "0" "$(run -- true; echo $?)"
    expect "a missing command is 127" "127" "$(run -- /nonexistent 2>/dev/null; echo $?)"
    expect "a command not in PATH is 127" "127" "$(run -- no-such-cmd 2>/dev/null; echo $?)"
    expect "a non-executable file is 126" "126" "$(run -- /bin/notexec 2>/dev/null; echo $?)"
    out=$("$DRIVER" --lower "$W/missing" --upper "$UP" --work "$WK" -- true 2>&1); rc=$?
    expect "a sandbox setup failure is 125" "125" "$rc"
    expect_in "the setup failure names the path" "$W/missing" "$out"
    # The session is recorded before the root is built; a start that fails takes it back.
    out=$("$DRIVER" --lower "$W/missing" --upper "$UP" --work "$WK" --sessions "$W/failed-sessions" -- true 2>&1); rc=$?
    expect "a recorded start that fails is 125" "125" "$rc"
    expect "a start that failed leaves no session record" "" "$(ls "$W/failed-sessions" 2>/dev/null)"
    expect "a command killed by a signal is 128+n" "137" "$(run -- sh -c 'kill -9 $$'; echo $?)"

    # --- signals, stop, zombies
    # Started directly (not through the shell function) so that $! is the driver itself.
    mkdir -p "$W/sig"
    "${RUN[@]}" --mount "$W/sig:/sig" -- \
        sh -c 'trap "exit 42" TERM; touch /sig/started; while :; do sleep 0.05; done' &
    pid=$!
    for _ in $(seq 200); do [ -e "$W/sig/started" ] && break; sleep 0.05; done
    kill -TERM $pid
    wait $pid
    expect "SIGTERM to the caller reaches the command" "42" "$?"

    local sessions=$W/sessions
    "${RUN[@]}" --sessions "$sessions" -- sh -c 'sleep 7771 & sleep 7772' &
    pid=$!
    for _ in $(seq 100); do [ -n "$(ls "$sessions" 2>/dev/null)" ] && break; sleep 0.05; done
    sleep 0.3
    expect "a running sandbox is recorded as one session" "1" "$(ls "$sessions" | wc -l)"
    expect "stop reports one session" "1" "$("$DRIVER" --stop "$sessions")"
    wait $pid
    rc=$?
    [ "$rc" -ne 0 ] && ok "the stopped run ended (status $rc)" || bad "the stopped run ended with 0"
    expect "stop leaves no process behind" "" "$(pgrep -f 'sleep 777[12]')"
    expect "stop clears the session" "0" "$(ls "$sessions" | wc -l)"

    # --- terminal: job control and container markers (needs a pseudo-terminal from script(1))
    if command -v script >/dev/null; then
        out=$(script -qec "$(printf '%q ' "${RUN[@]}") --interactive -- sh -c 'read a b c d pgrp sid tty tpgid rest </proc/self/stat; [ \$pgrp = \$tpgid ] && echo foreground'" /dev/null | cat -v)
        expect_in "an interactive command owns the terminal's foreground" "foreground" "$out"
        expect_in "the push marker precedes an interactive session" "^[]777;container;push;kp-test;karapace^[\\" "$out"
        expect_in "the pop marker follows it" "^[]777;container;pop;;^[\\" "$out"
    else
        skip "script(1) is not installed: no pseudo-terminal for the job-control test"
    fi
    expect_not_in "no markers when stdout is not a terminal" "777" "$(run --interactive -- true | cat -v)"

    expect "orphans are reaped by init (no zombies)" "0" \
        "$(run -- sh -c 'for i in 1 2 3 4; do (sleep 0.05 &); done; sleep 0.6; ps -o stat | grep -c "^Z"')"
    expect "the command is pid 2 under our init" "1" \
        "$(run -- sh -c 'cat /proc/1/comm' | grep -c karapace-init)"
}

main() {
    if [ "$MODE" = "--as-user" ]; then
        W=$USER_WORKDIR
        WHO=user
        suite "$W"
    else
        WHO=root
        W=$(mktemp -d /tmp/kp-sandbox-test.XXXXXX)
        trap 'kp_end_all_busy; chmod -R u+rwx "$W" "$W.user" 2>/dev/null; rm -rf "$W" "$W.user"' EXIT
        chmod 755 "$W"
        make_rootfs "$W/base"
        if [ "$(id -u)" -eq 0 ]; then
            suite "$W"
            local user=${KARAPACE_TEST_USER:-kptest}
            if ! id "$user" >/dev/null 2>&1; then
                useradd -m "$user" || echo "skip - cannot create the test user $user"
            fi
            if id "$user" >/dev/null 2>&1; then
                mkdir -p "$W.user"
                make_rootfs "$W.user/base"
                chown -R "$user:" "$W.user"
                # The image's files are root's inside: on the host, the sub-id container root
                # has in the user's map (its sub-id start + its uid - 1), as extraction leaves them.
                local u g su sg
                u=$(id -u "$user") g=$(id -g "$user")
                su=$(awk -F: -v n="$user" '$1 == n { print $2; exit }' /etc/subuid)
                sg=$(awk -F: -v n="$user" '$1 == n { print $2; exit }' /etc/subgid)
                [ -n "$su" ] && [ -n "$sg" ] &&
                    chown -R "$((su + u - 1)):$((sg + g - 1))" "$W.user/base"
                # The driver and its library must be reachable by the user.
                runuser -u "$user" -- test -x "$DRIVER" || kp_fail "$user cannot run $DRIVER"
                local out
                out=$(runuser -u "$user" -- env PATH="$PATH" \
                    HOME="$(getent passwd "$user" | cut -d: -f6)" \
                    bash "$0" "$DRIVER" "$PROBE" --as-user "$W.user")
                echo "$out"
                passes=$((passes + $(echo "$out" | grep -c '^ok')))
                failures=$((failures + $(echo "$out" | grep -c '^not ok')))
            fi
        else
            echo "skip - not root: the suite runs only as $(id -un), not as root too"
            suite "$W"
        fi
    fi
    echo "# passed $passes, failed $failures ($WHO)"
    [ "$failures" -eq 0 ]
}

main
