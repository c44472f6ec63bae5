#!/bin/bash
# Hostile files, without the kernel: every path a front end opens (CONFIG, keys-NAME beside it,
# route-NAME and route6-NAME for ifup-gre, both files of `check`, the file `mirror` and `keygen`
# read) given a 10 MB file, binary garbage, invalid UTF-8, a line of a million characters, a
# FIFO, a symbolic link, a directory, a device, a socket, a file that grows while it is read.
# Each case must: exit as expected (1 for every refusal) with a message naming the file and
# what is wrong, within 5 s of CPU time (60-s timeout), 256 MiB of address space (ulimit -v)
# and 64 MiB of resident memory (more under a sanitizer), print under 8 KiB and no control
# character, and
# write nothing (every file in the test's directory unchanged, `mirror -o`'s directory empty).
# A symbolic link as CONFIG or route file is followed, as network-scripts do; keys-NAME must not
# be one. ifup-gre runs in a network namespace of its own (unshare -n), so that even a failure to
# refuse could not touch the host.
# Usage: test-hostile.sh BUILDDIR [SWAP_OPEN_SHIM]
set -uo pipefail
B=$(cd "$1" && pwd)
SHIM=${2:-}
G=$B/plugin/gre-tunnel UP=$B/ifup-scripts/ifup-gre
T=$(mktemp -d)
D=$T/d    # the files given to the programs
OUT=$T/out # mirror's output directory: must stay empty
writer=
trap '[ -n "$writer" ] && kill "$writer" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$D" "$OUT"
export GRE_NETWORK_SCRIPTS_DIR=$D GRE_TUNNEL_STATE_DIR=$T/state
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# Sanitizer runtimes reserve terabytes of address space and keep shadow memory: no ulimit -v,
# and four times the resident memory for them; their checks make the largest case (65 536
# routes: 1.0 s of CPU plain) take some 12 s, so the CPU bound is 8 times the plain one there.
limit_vm=1 max_rss=65536 max_cpu=5000
# (grep reads all of ldd's output: with -q it may leave first, and pipefail would then take the
# SIGPIPE ldd got for a "no", and a sanitizer build would run under the ulimit.)
if ldd "$G" 2>/dev/null | grep 'lib[at]san' >/dev/null; then
    limit_vm=0 max_rss=262144 max_cpu=40000
fi

# snapshot: name, type, mode, owner, size, mtime and ctime of everything in $T (no file is read,
# so a FIFO cannot block it).
snapshot() { (cd "$T" && find . -mindepth 1 -path ./time -prune -o -printf '%p %y %m %U %s %T@ %C@\n' | sort); }

# hostile DESC WANT_RC WANT_TEXT -- CMD...: runs CMD bounded in time and memory; ok when it exits
# WANT_RC within 5 s of CPU time and 60 s of wall time (a hang ends at the 60-s timeout; the
# machine running the tests may be loaded, so the tight bound is on CPU time), its output
# contains WANT_TEXT, its peak RSS is below 64 MiB and nothing in $T changed. The output must
# also stay short (a message quoting a million-byte line must not be a million bytes long) and
# hold no control character but newline.
hostile() {
    local desc=$1 want_rc=$2 want=$3 out rc before after t0 ms rss user sys cpu why=
    shift 4
    before=$(snapshot)
    t0=$(date +%s%N)
    out=$(
        [ "$limit_vm" = 1 ] && ulimit -v 262144
        /usr/bin/time -f '%M %U %S' -o "$T/time" timeout -k 2 60 "$@" 2>&1
    )
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    read -r rss user sys < <(tail -n1 "$T/time" 2>/dev/null)
    cpu=$(awk -v u="${user:-99}" -v s="${sys:-99}" 'BEGIN { printf "%d", (u + s) * 1000 }')
    after=$(snapshot)
    [ "$rc" = "$want_rc" ] || why+=" rc=$rc (want $want_rc);"
    [[ "$out" == *"$want"* ]] || why+=" no \"$want\" in the output;"
    [ "$ms" -lt 60000 ] && [ "$cpu" -lt "$max_cpu" ] || why+=" took ${ms} ms, ${cpu} ms of CPU;"
    [[ "$rss" =~ ^[0-9]+$ ]] && [ "$rss" -lt "$max_rss" ] || why+=" max RSS ${rss:-?} KiB;"
    [ "${#out}" -lt 8192 ] || why+=" ${#out} bytes of output;"
    if LC_ALL=C grep -q '[[:cntrl:]]' <<<"$(tr -d '\n' <<<"$out")"; then
        why+=" a control character in the output;"
    fi
    [ "$before" = "$after" ] || why+=" files changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -4 | tr '\n' ' ');"
    [ -z "$(ls -A "$OUT")" ] || why+=" mirror wrote $(ls -A "$OUT");"
    if [ -z "$why" ]; then
        ok "$desc (${cpu} ms CPU, ${ms} ms, ${rss} KiB)"
    else
        not_ok "$desc:$why output: $(head -c 400 <<<"$out")"
    fi
}

good() { # good NAME [EXTRA-LINES]: a valid ifcfg file in $D
    printf 'DEVICE=%s\nTYPE=gre\nDEVICETYPE=gre\nMY_OUTER_IPADDR=192.0.2.1\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.1/30\nPEER_INNER_IPADDR=198.51.100.2\nUNDERLAY_MTU=1500\n%s\n' \
        "$1" "${2:-}" >"$D/ifcfg-$1"
}
ipsec='IPSEC=manual
SPI_ESP_IN=0x1001
SPI_ESP_OUT=0x1002'
keys() { # keys FILE: valid aes256-sha256 keys, mode 0600
    (
        umask 077
        printf 'KEY_ESP_IN=0x%s\nKEY_ESP_OUT=0x%s\nKEY_AESP_IN=0x%s\nKEY_AESP_OUT=0x%s\n' \
            "$(printf '11%.0s' {1..32})" "$(printf '22%.0s' {1..32})" \
            "$(printf '33%.0s' {1..32})" "$(printf '44%.0s' {1..32})" >"$1"
    )
}

# ---------------------------------------------------------------- the hostile objects
good ok
head -c 10000000 /dev/zero | tr '\0' '#' >"$D/big"               # 10 MB of comments
{ printf 'DEVICE=x\nMTU=1\0\377\n'; head -c 4096 /dev/urandom; } >"$D/garbage" # binary, NUL
printf 'DEVICE=gre\xff\xfe1\n' >"$D/badutf8"                       # invalid UTF-8 in a value
printf 'DEVICE=%s\n' "$(head -c 1000000 /dev/zero | tr '\0' a)" >"$D/ifcfg-longvalue"
head -c 1000000 /dev/zero | tr '\0' a >"$D/longline"          # one line, no '=', no newline
printf 'DEVICE=x\e[2J\e]2owned\a\n' >"$D/escapes" # terminal escapes (valid UTF-8)
mkfifo "$D/fifo"
mkdir "$D/dir"
ln -s ifcfg-ok "$D/link-ok"
ln -s fifo "$D/link-fifo"
ln -s /dev/zero "$D/link-zero"
ln -s nowhere "$D/dangling"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$D/sock" 2>/dev/null

# ---------------------------------------------------------------- CONFIG (gre-tunnel plan)
hostile "plan: a 10 MB file" 1 "$D/big is larger than 1 MiB" -- "$G" plan "$D/big"
hostile "plan: binary garbage (NUL bytes)" 1 "$D/garbage:2: MTU: contains a NUL byte" -- "$G" plan "$D/garbage"
hostile "plan: invalid UTF-8 in a value" 1 "$D/badutf8:1: DEVICE: the value is not valid UTF-8" -- "$G" plan "$D/badutf8"
hostile "plan: a value of a million characters (the message is shortened)" 1 "bytes ...]" -- \
    "$G" plan "$D/ifcfg-longvalue"
hostile "plan: a line of a million characters" 1 "$D/longline:1: not a NAME=value assignment" -- \
    "$G" plan "$D/longline"
hostile "plan: terminal escapes in a value are shown escaped" 1 'DEVICE: "x\x1B[2J\x1B]2owned\x07"' -- \
    "$G" plan "$D/escapes"
hostile "plan: a FIFO (nobody writes: must not block)" 1 "$D/fifo: is a FIFO, not a regular file" -- \
    "$G" plan "$D/fifo"
# A writer that keeps the FIFO open and never stops must not keep us reading either.
(exec yes 'DEVICE=x' >"$D/fifo") 2>/dev/null &
writer=$!
hostile "plan: a FIFO with an endless writer" 1 "$D/fifo: is a FIFO, not a regular file" -- \
    "$G" plan "$D/fifo"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
writer=
hostile "plan: a directory" 1 "$D/dir: is a directory, not a regular file" -- "$G" plan "$D/dir"
hostile "plan: /dev/zero (must not read forever)" 1 "/dev/zero: is a device, not a regular file" -- \
    "$G" plan /dev/zero
hostile "plan: /dev/null" 1 "/dev/null: is a device, not a regular file" -- "$G" plan /dev/null
hostile "plan: a symbolic link to /dev/zero" 1 "$D/link-zero: is a device" -- "$G" plan "$D/link-zero"
hostile "plan: a symbolic link to a FIFO" 1 "$D/link-fifo: is a FIFO" -- "$G" plan "$D/link-fifo"
hostile "plan: a dangling symbolic link" 1 "cannot open $D/dangling: No such file" -- "$G" plan "$D/dangling"
if [ -S "$D/sock" ]; then
    hostile "plan: a socket" 1 "cannot open $D/sock: No such device or address" -- "$G" plan "$D/sock"
else
    ok "plan: a socket # SKIP python3 cannot bind a unix socket here"
fi
hostile "plan: a symbolic link to a good ifcfg is followed (as network-scripts do)" 0 \
    "ip link add ok mtu 1476 type gre" -- "$G" plan "$D/link-ok"

# 90 000 keys that are not ours fit in 1 MiB: 20 are named, then a count (it was 8 MB of
# warnings). The output bound of hostile() is what this checks.
{ cat "$D/ifcfg-ok"; awk 'BEGIN { for (i = 0; i < 90000; i++) printf "X%d=1\n", i }'; } >"$D/manykeys"
hostile "plan: 90 000 unknown keys make 21 warnings" 0 "$D/manykeys: 89980 more keys that are not" -- \
    "$G" plan "$D/manykeys"

# A regular file that grows while it is read: a writer appends without end. Whether the 1 MiB
# limit is met at the size check or in the middle of the read, the file is refused.
printf 'DEVICE=x\n' >"$D/growing"
(exec yes '# more' >>"$D/growing") 2>/dev/null &
writer=$!
sleep 0.2
before=$(snapshot) # the writer changes the file: compare the rest of the test by hand
out=$(timeout 60 "$G" plan "$D/growing" 2>&1)
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
writer=
if [ "$rc" = 1 ] && [[ "$out" == *"$D/growing is larger than 1 MiB"* ]]; then
    ok "plan: a file that grows while it is read"
else
    not_ok "plan: a file that grows while it is read: rc=$rc: ${out:0:300}"
fi
rm -f "$D/growing"

# ---------------------------------------------------------------- keys-NAME
# A tunnel with IPsec whose keys-NAME is each hostile object in turn. keys-NAME is never
# followed as a symbolic link and must be a regular file of ours, mode 0600.
good k "$ipsec"
keys "$T/keys-good"
k=$D/keys-k
with_keys() { # with_keys DESC TEXT -- (keys-k set up by the caller)
    hostile "keys-NAME: $1" 1 "$2" -- "$G" plan "$D/ifcfg-k"
    rm -rf "$k"
}
mkfifo "$k"
with_keys "a FIFO" "$k: is a FIFO; secrets must be stored in a regular file"
mkdir "$k"
with_keys "a directory" "$k: is a directory; secrets must be stored"
ln -s "$T/keys-good" "$k"
with_keys "a symbolic link to a good keys file" "$k: is a symbolic link, which is not followed"
ln -s /dev/zero "$k"
with_keys "a symbolic link to /dev/zero" "$k: is a symbolic link, which is not followed"
if mknod "$k" c 1 5 2>/dev/null; then
    with_keys "a device node (/dev/zero's numbers)" "$k: is a device; secrets must be stored"
else
    ok "keys-NAME: a device node # SKIP cannot mknod here"
fi
(umask 077 && head -c 10000000 /dev/zero | tr '\0' '#' >"$k")
with_keys "a 10 MB file" "$k is larger than 1 MiB"
(umask 077 && { printf 'KEY_ESP_IN=0x00\nKEY_ESP_OUT=0\0\377\n'; head -c 4096 /dev/urandom; } >"$k")
with_keys "binary garbage" "$k:2: KEY_ESP_OUT: contains a NUL byte"
keys "$k" && chmod 644 "$k"
with_keys "readable by others" "$k: readable by group or others (mode 0644)"
keys "$k"
hostile "keys-NAME: the good one is read (the cases above can pass)" 0 "xfrm state add" -- \
    "$G" plan "$D/ifcfg-k"

# ---------------------------------------------------------------- check, mirror, keygen
hostile "check: B is a FIFO" 1 "$D/fifo: is a FIFO" -- "$G" check "$D/ifcfg-ok" "$D/fifo"
hostile "check: A is 10 MB" 1 "$D/big is larger than 1 MiB" -- "$G" check "$D/big" "$D/ifcfg-ok"
hostile "check: B is /dev/zero" 1 "/dev/zero: is a device" -- "$G" check "$D/ifcfg-ok" /dev/zero
hostile "mirror: a FIFO, nothing written" 1 "$D/fifo: is a FIFO" -- "$G" mirror -o "$OUT" "$D/fifo"
hostile "mirror: binary garbage, nothing written" 1 "garbage:2: MTU: contains a NUL byte" -- \
    "$G" mirror -o "$OUT" "$D/garbage"
rm -f "$k" && mkfifo "$k"
hostile "mirror: keys-NAME is a FIFO, nothing written" 1 "$k: is a FIFO" -- \
    "$G" mirror -o "$OUT" "$D/ifcfg-k"
rm -f "$k"
hostile "keygen: CONFIG is a FIFO, nothing written" 1 "$D/fifo: is a FIFO" -- "$G" keygen "$D/fifo"
hostile "keygen: CONFIG is 10 MB, nothing written" 1 "is larger than 1 MiB" -- "$G" keygen "$D/big"
hostile "keygen: CONFIG is a directory, nothing written" 1 "$D/dir: is a directory" -- "$G" keygen "$D/dir"

# ---------------------------------------------------------------- ifup-gre
# ifup-gre NAME reads $D/ifcfg-NAME, then $D/route-NAME and $D/route6-NAME if they exist.
up=(unshare -n "$UP")
ln -s fifo "$D/ifcfg-fifo"
hostile "ifup-gre: CONFIG is a FIFO" 1 "[ifup-gre] $D/ifcfg-fifo: is a FIFO" -- "${up[@]}" fifo
ln -s big "$D/ifcfg-big"
hostile "ifup-gre: CONFIG is 10 MB" 1 "[ifup-gre] $D/ifcfg-big is larger than 1 MiB" -- "${up[@]}" big
ln -s escapes "$D/ifcfg-esc"
hostile "ifup-gre: terminal escapes are shown escaped" 1 '\x1B[2J\x1B]2owned\x07' -- "${up[@]}" esc
good r
for f in route route6; do
    p=$D/$f-r
    mkfifo "$p"
    hostile "ifup-gre: $f-NAME is a FIFO" 1 "$p: is a FIFO, not a regular file" -- "${up[@]}" r
    rm -f "$p"
    ln -s /dev/zero "$p"
    hostile "ifup-gre: $f-NAME is a link to /dev/zero" 1 "$p: is a device, not a regular file" -- "${up[@]}" r
    rm -f "$p"
    mkdir "$p"
    hostile "ifup-gre: $f-NAME is a directory" 1 "$p: is a directory" -- "${up[@]}" r
    rmdir "$p"
    head -c 10000000 /dev/zero | tr '\0' '#' >"$p"
    hostile "ifup-gre: $f-NAME is 10 MB" 1 "$p is larger than 1 MiB" -- "${up[@]}" r
    { printf '203.0.113.0/24\n'; head -c 4096 /dev/urandom; } >"$p"
    hostile "ifup-gre: $f-NAME is binary garbage" 1 "$p:" -- "${up[@]}" r
    rm -f "$p"
done
# Just under 1 MiB: 65 536 routes, the first again on the last line. Checking each route against
# the ones before it must not take quadratic time (it took 37 s).
awk 'BEGIN { for (i = 0; i < 65536; i++) printf "10.%d.%d.0/24\n", int(i / 256), i % 256;
             print "10.0.0.0/24" }' >"$D/route-r"
hostile "ifup-gre: route-NAME of 65 536 routes and a duplicate" 1 \
    "$D/route-r:65537: 10.0.0.0/24 is already routed through the tunnel" -- "${up[@]}" r
rm -f "$D/route-r"

# ---------------------------------------------------------------- keys-NAME swapped after open
# The checks of keys-NAME (type, owner, mode) are made on the opened descriptor and the bytes
# come from that same descriptor: a file renamed over keys-NAME right after the open changes
# nothing. The shim does that rename inside open() (GRE_TEST_SWAP_OPEN=keys-k, from
# keys-k.swap). A reader that checked one file and read another by name would show the other
# file's key, or refuse the good file for the bad one's mode.
if [ -n "$SHIM" ] && [ -f "$SHIM" ]; then
    swap() { env LD_PRELOAD="$SHIM" GRE_TEST_SWAP_OPEN="$D/keys-k" "$@"; }
    keys "$k"
    keys "$k.swap" && sed -i 's/^KEY_ESP_OUT=0x22/KEY_ESP_OUT=0x99/' "$k.swap" && chmod 644 "$k.swap"
    out=$(swap "$G" plan --show-secrets "$D/ifcfg-k" 2>&1)
    rc=$?
    if [ "$rc" = 0 ] && [[ "$out" == *"0x2222"* ]] && [[ "$out" != *"0x9922"* ]] && [ ! -e "$k.swap" ]; then
        ok "keys-NAME swapped for a readable file after the open: the checked file's keys are used"
    else
        not_ok "keys-NAME swapped after the open: rc=$rc, swap file $( [ -e "$k.swap" ] && echo 'not ')renamed: ${out:0:300}"
    fi
    keys "$k" && chmod 644 "$k"
    keys "$k.swap"
    out=$(swap "$G" plan --show-secrets "$D/ifcfg-k" 2>&1)
    rc=$?
    if [ "$rc" = 1 ] && [[ "$out" == *"$k: readable by group or others (mode 0644)"* ]] && [ ! -e "$k.swap" ]; then
        ok "keys-NAME readable by others, swapped for a good file after the open: still refused"
    else
        not_ok "readable keys-NAME swapped after the open: rc=$rc: ${out:0:300}"
    fi
else
    ok "keys-NAME swapped after the open # SKIP no swap-open shim (sanitizer build)"
    ok "readable keys-NAME swapped after the open # SKIP no swap-open shim (sanitizer build)"
fi

echo "1..$n"
[ "$failed" = 0 ]
