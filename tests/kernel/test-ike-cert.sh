#!/bin/bash
# IPSEC=ike with IKE_AUTH=cert: X.509 certificates made here with strongSwan's pki, loaded by
# gre-tunnel over VICI (load-authority, load-key, the own certificate in load-conn). Two
# namespaces on a veth wire, one charon-systemd each (lib-charon.sh). Every assertion reads the
# kernel, the wire (tcpdump) or the daemon through swanctl, never gre-tunnel's own word.
#   1. up A, then B: pings both ways, ESP on the wire with the SPIs swanctl reports, a ping of
#      the outer address stays clear, the CHILD_SA in transport mode.
#   2. down: links and xfrm as before; swanctl shows neither our connection, nor our CA
#      (--list-authorities), nor a private key (--list-certs: "has private key"); the only
#      certificate left that was not there before is A's own (VICI cannot unload one).
#   3. A's certificate is for another identity (subjectAltName 192.0.2.99), or A's key is not
#      its certificate's: up fails saying which, exit 1; kernel, connections, authorities and
#      keys as before.
#   4. A trusts the wrong CA: up fails saying the peer's certificate is not trusted, although
#      an authority the administrator loaded in A's daemon trusts B's CA (so only the ca_id
#      constraint to IKE_CACERT refuses it); the same checks.
#   5. Files: a missing certificate and a key others can read fail naming the setting and the
#      file, with nothing loaded.
# Arguments: section numbers (1-5) to run only those.
. "$(dirname "$0")/lib-apply.sh"
. "$(dirname "$0")/lib-charon.sh"
umask 077

ike_skip_without_charon pki
SECTIONS=" ${*:-1 2 3 4 5} "
section() { [[ $SECTIONS == *" $1 "* ]]; }
A=ikc-a B=ikc-b
A_OUT=192.0.2.1 B_OUT=192.0.2.2 OTHER=192.0.2.99
A_IN=198.51.100.1 B_IN=198.51.100.2
TMO=120
apply_pair $A $B
trap 'stop_all_charons; cleanup' EXIT

# ---- certificates: CA, A and B (subjectAltName = the outer address), A for another identity,
# a second CA that signed nothing of B's
P=$T/pki
mkdir -p "$P"
pk() { pki "$@" 2>/dev/null; }
mkca() { # mkca NAME CN
    pk --gen --type ecdsa --size 256 --outform pem >"$P/$1.key" &&
        pk --self --ca --lifetime 30 --in "$P/$1.key" --type ecdsa --dn "C=CH, O=Test, CN=$2" \
            --outform pem >"$P/$1.crt"
}
mkend() { # mkend NAME CA CN SAN
    pk --gen --type ecdsa --size 256 --outform pem >"$P/$1.key" &&
        pk --pub --in "$P/$1.key" --type ecdsa |
        pk --issue --cacert "$P/$2.crt" --cakey "$P/$2.key" --dn "C=CH, O=Test, CN=$3" \
            --san "$4" --lifetime 30 --outform pem >"$P/$1.crt"
}
check "pki: the CA" mkca ca "Test CA"
check "pki: a second CA" mkca ca2 "Other CA"
check "pki: A's certificate (subjectAltName $A_OUT)" mkend a ca a $A_OUT
check "pki: B's certificate (subjectAltName $B_OUT)" mkend b ca b $B_OUT
check "pki: a certificate for another identity ($OTHER)" mkend other ca other $OTHER
check "the certificates are PEM" grep -q 'BEGIN CERTIFICATE' "$P/a.crt"

mkdir -p "$T/a" "$T/b"
ike_ifcfg_a IKE_AUTH=cert IKE_CERT=$P/a.crt IKE_PRIVKEY=$P/a.key IKE_CACERT=$P/ca.crt
check "mirror writes B's files" "$G" mirror -o "$T/b" "$T/a/ifcfg-gre1"
expect "mirror: B gets IKE_AUTH=cert and the CA, not A's own certificate or key" \
    "^IKE_AUTH=cert$" "$(cat "$T/b/ifcfg-gre1")"
expect_not "mirror: A's certificate and key are not B's" "/a\\.(crt|key)$" "$(cat "$T/b/ifcfg-gre1")"
cat >>"$T/b/ifcfg-gre1" <<EOF
IKE_CERT=$P/b.crt
IKE_PRIVKEY=$P/b.key
IKE_VICI_SOCKET=$T/$B/charon.vici
EOF
out=$("$G" check "$T/a/ifcfg-gre1" "$T/b/ifcfg-gre1" 2>&1)
expect_eq "check: the two ends mirror each other" "0" "$?"

check "A: charon-systemd starts" start_charon $A
check "B: charon-systemd starts" start_charon $B
dump_ns() {
    dump "$1" >/dev/null
    {
        ip -n "$1" -d link show | sed -E 's/ (qlen|qdisc|state|mode|group) [^ ]+//g'
        ip -n "$1" xfrm state
        ip -n "$1" xfrm policy
    } 2>&1
}
sas() { sw "$1" --list-sas 2>/dev/null; }
# What the daemon holds: connections, authorities, and certificates by subject with whether
# their private key is loaded.
daemon_state() {
    sw "$1" --list-conns 2>/dev/null | grep -E '^[^ ]'
    sw "$1" --list-authorities 2>/dev/null | grep -E '^[^ ]'
    sw "$1" --list-certs 2>/dev/null | grep -E '^  (subject|pubkey):'
}
# The administrator's own authority in A's daemon, for the CA that signed B's certificate: it
# must stay through all of this, and it must not make B trusted where IKE_CACERT names
# another CA (section 4).
cat >"$T/admin.conf" <<EOF
authorities {
    admin-ca {
        cacert = $P/ca.crt
    }
}
EOF
check "A: the administrator's authority, loaded with swanctl" \
    sw $A --load-authorities --file "$T/admin.conf"
before_a=$(dump_ns $A)
before_b=$(dump_ns $B)
d_before_a=$(daemon_state $A)
d_before_b=$(daemon_state $B)
note "A's daemon before: $(echo $d_before_a)"

if section 1; then
# ---------------------------------------------------------------- 1. a pair with certificates
gt $A up --ike-timeout 20 "$T/a/ifcfg-gre1" >"$T/upa.out" 2>"$T/upa.err"
expect_eq "A first: up succeeds (exit 0)" "0" "$?"
gt $B up --ike-timeout $TMO "$T/b/ifcfg-gre1" >"$T/upb.out" 2>"$T/upb.err"
rc=$?
expect_eq "B second: up succeeds without a warning" "0:" "$rc:$(cat "$T/upb.err")"
[ "$rc" = 0 ] || { cat "$T/upa.err" "$T/upb.err" | sed 's/^/#   /'; charon_log $A $B; }
sa_a=$(sas $A)
expect "swanctl A: IKE_SA gre-gre1 ESTABLISHED" '^gre-gre1: #[0-9]+, ESTABLISHED, IKEv2' "$sa_a"
expect "swanctl A: authenticated by certificate: the peer's id is B's address" \
    "remote '${B_OUT//./\\.}' @ ${B_OUT//./\\.}" "$sa_a"
expect "swanctl A: CHILD_SA gre INSTALLED, TRANSPORT" \
    '^ +gre: #[0-9]+, reqid [0-9]+, INSTALLED, TRANSPORT, ESP' "$sa_a"
lc=$(sw $A --list-conns 2>/dev/null)
expect "swanctl A: local authentication by public key with A's certificate" \
    'local public key authentication:' "$lc"
expect "swanctl A: ... certificate CN=a" 'certs: +C=CH, O=Test, CN=a' "$lc"
# (list-conns does not show ca_id: section 4 proves the constraint by its effect)
expect "swanctl A: the CA loaded as authority gre-gre1" '^gre-gre1:' \
    "$(sw $A --list-authorities 2>/dev/null)"
expect "swanctl A: A's private key is loaded" 'has private key' "$(sw $A --list-certs 2>/dev/null)"
spis=$(child_spis <<<"$sa_a")
note "SPIs swanctl reports on A: $(echo $spis)"
esp_on_wire
expect_not "wire: ESP seen at all" '^$' "$wire_spis"
expect_eq "wire: every ESP SPI is one swanctl --list-sas reports" "" \
    "$(comm -23 <(printf '%s\n' "$wire_spis") <(printf '%s\n' "$spis"))"
capture $A wire "icmp and host $B_OUT" 2 "$T/clear"
nsping $A $B_OUT >/dev/null
capture_stop
expect "wire: a ping of B's outer address stays clear ICMP" \
    "${A_OUT//./\\.} > ${B_OUT//./\\.}: ICMP echo request" "$(packets "$T/clear")"
expect_not "A: no ESP state in tunnel mode" ' mode tunnel ' "$(ip -n $A xfrm state | oneline)"
rec=$(cat "$(record_of $A gre1)")
expect "A's record: the private key with the id charon gave it" '^step=ike-key .* keyid=[0-9a-f]{40}$' "$rec"
fi

if section 2; then
# ---------------------------------------------------------------- 2. down unloads what up loaded
out=$(gt $A down gre1 2>&1)
expect_eq "A: down succeeds" 0 "$?"
out=$(gt $B down gre1 2>&1)
expect_eq "B: down succeeds" 0 "$?"
settle $A
settle $B
expect_eq "A: links and xfrm as before up" "$before_a" "$(dump_ns $A)"
expect_eq "B: links and xfrm as before up" "$before_b" "$(dump_ns $B)"
for ns in $A $B; do
    st=$(daemon_state $ns)
    expect_not "$ns: no connection of ours" '^gre-gre1:' "$(sw $ns --list-conns 2>/dev/null)"
    expect_not "$ns: no authority of ours" '^gre-gre1:' "$(sw $ns --list-authorities 2>/dev/null)"
    expect_not "$ns: no private key loaded" 'has private key' "$(sw $ns --list-certs 2>/dev/null)"
done
expect "A: the administrator's authority stays" '^admin-ca:' "$(sw $A --list-authorities 2>/dev/null)"
# VICI (5.9.8) has no command that unloads one certificate: the own one stays, keyless.
expect_eq "A: the only certificate left that was not there before is A's own" \
    '  subject:  "C=CH, O=Test, CN=a"' \
    "$(comm -13 <(printf '%s\n' "$d_before_a" | grep subject: | sort) \
        <(daemon_state $A | grep subject: | sort))"
d_before_a=$(daemon_state $A)
fi
gt $A down gre1 >/dev/null 2>&1
gt $B down gre1 >/dev/null 2>&1

# fails_clean LABEL FILE EXIT ERE: up of A with FILE fails with EXIT, saying ERE, and leaves
# the kernel and A's daemon as they were (the own certificate aside, see 2).
fails_clean() {
    local label=$1 file=$2 want=$3 ere=$4 out rc d
    out=$(gt $A up --wait-peer --ike-timeout 30 "$file" 2>&1)
    rc=$?
    expect_eq "$label: up fails with exit $want" "$want" "$rc"
    expect "$label: the error says why" "$ere" "$out"
    [ "$rc" = "$want" ] || charon_log $A $B
    settle $A
    expect_eq "$label: A's links and xfrm as before" "$before_a" "$(dump_ns $A)"
    d=$(daemon_state $A)
    expect_not "$label: no connection of ours" '^gre-gre1:' "$(sw $A --list-conns 2>/dev/null)"
    expect_not "$label: no authority of ours" '^gre-gre1:' "$(sw $A --list-authorities 2>/dev/null)"
    expect_not "$label: no private key loaded" 'has private key' "$(sw $A --list-certs 2>/dev/null)"
    expect_eq "$label: connections and authorities as before" \
        "$(printf '%s\n' "$d_before_a" | grep -v '^  ')" "$(printf '%s\n' "$d" | grep -v '^  ')"
    check_not "$label: no ownership record left" test -e "$(record_of $A gre1)"
}

if section 3; then
# ---------------------------------------------------------------- 3. another identity
check "B up (its end is right)" gt $B up --ike-timeout 10 "$T/b/ifcfg-gre1"
sed -e "s|^IKE_CERT=.*|IKE_CERT=$P/other.crt|" -e "s|^IKE_PRIVKEY=.*|IKE_PRIVKEY=$P/other.key|" \
    "$T/a/ifcfg-gre1" >"$T/a/ifcfg-other"
fails_clean "certificate for $OTHER" "$T/a/ifcfg-other" 1 \
    "IKE_CERT: .*other\\.crt does not carry the identity ${A_OUT//./\\.} that this end proves"
sed -e "s|^IKE_PRIVKEY=.*|IKE_PRIVKEY=$P/b.key|" "$T/a/ifcfg-gre1" >"$T/a/ifcfg-wrongkey"
fails_clean "a key that is not the certificate's" "$T/a/ifcfg-wrongkey" 1 \
    "IKE_PRIVKEY is not the private key of IKE_CERT .*a\\.crt"
fi

if section 4; then
# ---------------------------------------------------------------- 4. the wrong CA
gt $B up --ike-timeout 10 "$T/b/ifcfg-gre1" >/dev/null 2>&1
sed -e "s|^IKE_CACERT=.*|IKE_CACERT=$P/ca2.crt|" "$T/a/ifcfg-gre1" >"$T/a/ifcfg-ca2"
fails_clean "wrong CA" "$T/a/ifcfg-ca2" 1 \
    "the certificate ${B_OUT//./\\.} presented is not trusted for ${B_OUT//./\\.}: it is not signed by the CA of IKE_CACERT"
fi
gt $B down gre1 >/dev/null 2>&1

if section 5; then
# ---------------------------------------------------------------- 5. unusable files
sed -e "s|^IKE_CERT=.*|IKE_CERT=$P/missing.crt|" "$T/a/ifcfg-gre1" >"$T/a/ifcfg-missing"
fails_clean "missing certificate" "$T/a/ifcfg-missing" 1 "IKE_CERT: .*missing\\.crt"
cp "$P/a.key" "$P/open.key"
chmod 644 "$P/open.key"
sed -e "s|^IKE_PRIVKEY=.*|IKE_PRIVKEY=$P/open.key|" "$T/a/ifcfg-gre1" >"$T/a/ifcfg-open"
fails_clean "a private key others can read" "$T/a/ifcfg-open" 1 \
    "IKE_PRIVKEY: .*open\\.key: a private key must be owned by uid 0 and readable by it alone \\(mode 0644\\)"
sed -e "s|^IKE_CACERT=.*|IKE_CACERT=$P/a.crt|" "$T/a/ifcfg-gre1" >"$T/a/ifcfg-notca"
fails_clean "an end certificate as IKE_CACERT" "$T/a/ifcfg-notca" 1 \
    "IKE_CACERT: .*a\\.crt: the IKE daemon refused it"
fi

finish
