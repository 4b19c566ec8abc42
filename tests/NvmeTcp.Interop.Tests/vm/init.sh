#!/bin/sh
# /init of the interop VM (busybox sh, PID 1): load the modules, bring up eth0, configure Linux nvmet
# through configfs, print NVMET-READY on the console (ttyS0) and wait. Every wait is bounded; on any
# error it prints NVMET-FAILED and reboots, which ends QEMU (-no-reboot), so the host never waits for a
# target that will not come. The values here are what the tests assert (Harness/NvmetTarget.cs mirrors them).
export PATH=/bin

/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
    echo "NVMET-FAILED: $*"
    dmesg | tail -n 40
    sleep 1
    reboot -f
}

# Writes a configfs attribute; a refused value is fatal.
w() {
    echo "$2" > "$1" || fail "write '$2' to $1"
}

# Waits up to 10 s for a path to appear.
wait_for() {
    i=0
    while [ ! -e "$1" ]; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && fail "$1 did not appear"
        usleep 100000
    done
}

# The host kills QEMU when the tests end. If the host dies first (SIGKILL, power loss) the VM still
# ends: after nvmet_lifetime seconds (kernel command line, passed to init as an environment variable).
lifetime=${nvmet_lifetime:-3600}

while read -r name flag params; do
    # shellcheck disable=SC2086 # params holds several words (brd rd_nr=1 rd_size=65536)
    if ! insmod "/modules/$name.ko" $params 2> /tmp/insmod.err; then
        [ "$flag" = required ] && fail "insmod $name: $(cat /tmp/insmod.err)"
        echo "note: optional module $name not loaded: $(cat /tmp/insmod.err)"
    fi
done < /etc/modules.order

wait_for /sys/class/net/eth0
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 || fail "eth0 address"
ip link set eth0 up || fail "eth0 up"
ip route add default via 10.0.2.2 || fail "default route"

wait_for /sys/kernel/config
mount -t configfs configfs /sys/kernel/config 2> /dev/null
N=/sys/kernel/config/nvmet
wait_for "$N/subsystems"
wait_for /dev/ram0

# Namespace 2 and the restricted subsystem's namespace are sparse files on tmpfs: nvmet takes a file
# namespace's LBA size from the inode's block size (i_blkbits, capped at 12), 4096 on tmpfs. tmpfs has
# no O_DIRECT, so those namespaces need buffered_io 1 (6.1 refuses to enable them otherwise).
mount -t tmpfs -o size=96m tmpfs /srv || fail "tmpfs"
truncate -s 64M /srv/ns2.img || fail "ns2 file"
truncate -s 8M /srv/restricted.img || fail "restricted file"

# add_namespace SUBSYSTEM NSID PATH UUID NGUID BUFFERED
add_namespace() {
    d="$N/subsystems/$1/namespaces/$2"
    mkdir "$d" || fail "mkdir $d"
    w "$d/device_path" "$3"
    w "$d/device_uuid" "$4"
    w "$d/device_nguid" "$5"
    [ "$6" = 1 ] && w "$d/buffered_io" 1
    w "$d/enable" 1
}

S=nqn.2026-11.dev.nvmetcp:interop
mkdir "$N/subsystems/$S" || fail "mkdir subsystem $S"
w "$N/subsystems/$S/attr_allow_any_host" 1
w "$N/subsystems/$S/attr_serial" NVMETCP-INTEROP-01
w "$N/subsystems/$S/attr_model" "NvmeTcp interop target"
add_namespace "$S" 1 /dev/ram0 4e564d45-0001-4000-8000-000000000001 4e564d45-0001-0000-0000-000000000001 0
add_namespace "$S" 2 /srv/ns2.img 4e564d45-0002-4000-8000-000000000002 4e564d45-0002-0000-0000-000000000002 1

R=nqn.2026-11.dev.nvmetcp:restricted
HOST=nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555
mkdir "$N/subsystems/$R" || fail "mkdir subsystem $R"
w "$N/subsystems/$R/attr_allow_any_host" 0
w "$N/subsystems/$R/attr_serial" NVMETCP-RESTRICT-01
mkdir "$N/hosts/$HOST" || fail "mkdir host"
ln -s "$N/hosts/$HOST" "$N/subsystems/$R/allowed_hosts/$HOST" || fail "allowed host link"
add_namespace "$R" 1 /srv/restricted.img 4e564d45-0003-4000-8000-000000000003 4e564d45-0003-0000-0000-000000000003 1

subsystems="$S $R"

# DH-HMAC-CHAP (kernels built with NVME_TARGET_AUTH: 6.12, not Debian 12's 6.1): a subsystem only hosts that
# authenticate may use, one host entry per hash and DH group, each with the same test keys (host key transformed
# with SHA-256, controller key untransformed, 48 bytes), so each entry fixes the hash and group nvmet chooses.
auth=none
if [ -e "$N/hosts/$HOST/dhchap_key" ]; then
    A=nqn.2026-11.dev.nvmetcp:auth
    AUTH_HOST_KEY='DHHC-1:01:8zaeW/k67fyC2f4pmQNOsloaoZsSnlf8tjEwGD0wsN4/Vcif:'
    AUTH_CTRL_KEY='DHHC-1:00:qoPcmLA5YZQ6IduYFAoIrdL6gMJ25M9IAi1QA06of+NVEBotvgy13b/vC3cuo8+ondUiNw==:'
    truncate -s 8M /srv/auth.img || fail "auth file"
    mkdir "$N/subsystems/$A" || fail "mkdir subsystem $A"
    w "$N/subsystems/$A/attr_allow_any_host" 0
    w "$N/subsystems/$A/attr_serial" NVMETCP-AUTH-01
    add_namespace "$A" 1 /srv/auth.img 4e564d45-0005-4000-8000-000000000005 4e564d45-0005-0000-0000-000000000005 1
    auth=0
    for hash in sha256 sha384 sha512; do
        for group in null ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 ffdhe8192; do
            H="nqn.2026-11.dev.nvmetcp:host-$hash-$group"
            mkdir "$N/hosts/$H" || fail "mkdir host $H"
            w "$N/hosts/$H/dhchap_key" "$AUTH_HOST_KEY"
            w "$N/hosts/$H/dhchap_ctrl_key" "$AUTH_CTRL_KEY"
            w "$N/hosts/$H/dhchap_hash" "hmac($hash)"
            w "$N/hosts/$H/dhchap_dhgroup" "$group"
            ln -s "$N/hosts/$H" "$N/subsystems/$A/allowed_hosts/$H" || fail "allowed host link $H"
            auth=$((auth + 1))
        done
    done
    subsystems="$subsystems $A"
fi

# Persistent reservations (6.13+: the namespace's resv_enable, set before it is enabled): a subsystem of their own,
# any host, one 8 MiB file namespace, so the reservation tests cannot disturb the others.
resv=none
V=nqn.2026-11.dev.nvmetcp:resv
mkdir "$N/subsystems/$V" || fail "mkdir subsystem $V"
d="$N/subsystems/$V/namespaces/1"
mkdir "$d" || fail "mkdir $d"
if [ -e "$d/resv_enable" ]; then
    truncate -s 8M /srv/resv.img || fail "resv file"
    w "$N/subsystems/$V/attr_allow_any_host" 1
    w "$N/subsystems/$V/attr_serial" NVMETCP-RESV-01
    w "$d/device_path" /srv/resv.img
    w "$d/device_uuid" 4e564d45-0006-4000-8000-000000000006
    w "$d/device_nguid" 4e564d45-0006-0000-0000-000000000006
    w "$d/buffered_io" 1
    w "$d/resv_enable" 1
    w "$d/enable" 1
    subsystems="$subsystems $V"
    resv=1
else
    rmdir "$d" "$N/subsystems/$V"
fi

# Opt-in (kernel command line nvmet_disk=1, with a virtio-blk disk attached): a subsystem of its own whose
# namespace is /dev/vda, a host file that outlives the VM, for the restart test. Only VMs started with a disk
# have it, so the fixture's VMs serve exactly what the other tests assert.
disk=none
if [ "${nvmet_disk:-0}" = 1 ]; then
    wait_for /dev/vda
    D=nqn.2026-11.dev.nvmetcp:persistent
    mkdir "$N/subsystems/$D" || fail "mkdir subsystem $D"
    w "$N/subsystems/$D/attr_allow_any_host" 1
    w "$N/subsystems/$D/attr_serial" NVMETCP-PERSIST-01
    add_namespace "$D" 1 /dev/vda 4e564d45-0004-4000-8000-000000000004 4e564d45-0004-0000-0000-000000000004 0
    subsystems="$subsystems $D"
    disk="vda:$(cat /sys/block/vda/size)x512"
fi

P=$N/ports/1
mkdir "$P" || fail "mkdir port"
w "$P/addr_trtype" tcp
w "$P/addr_adrfam" ipv4
w "$P/addr_traddr" 0.0.0.0
w "$P/addr_trsvcid" 4420

# Linking the first subsystem enables the port (nvmet-tcp listens before ln returns); unlinking the last
# disables it: nvmet deletes the port's controllers and closes the listener.
port_add() {
    for s in $subsystems; do
        ln -s "$N/subsystems/$s" "$P/subsystems/$s" || return 1
    done
}
port_remove() {
    for s in $subsystems; do
        rm "$P/subsystems/$s" || return 1
    done
}
port_add || fail "link $subsystems to port"

# Opt-in (nvmet_multipath=1, with QEMU forwarding a second host port to the guest's 4421): a subsystem served on
# port 1 and on a port 2 (4421), its namespace in ANA group 2 (ports/N/ana_groups/2 on both ports), for the ANA
# tests. A tmpfs file keeps what is written for the VM's life. Only on those VMs, so the fixture's serve exactly what
# the other tests assert.
mp=none
M=nqn.2026-11.dev.nvmetcp:multipath
if [ "${nvmet_multipath:-0}" = 1 ]; then
    truncate -s 16M /srv/multipath.img || fail "multipath file"
    mkdir "$N/subsystems/$M" || fail "mkdir subsystem $M"
    w "$N/subsystems/$M/attr_allow_any_host" 1
    w "$N/subsystems/$M/attr_serial" NVMETCP-MPATH-01
    P2=$N/ports/2
    mkdir "$P2" || fail "mkdir port 2"
    w "$P2/addr_trtype" tcp
    w "$P2/addr_adrfam" ipv4
    w "$P2/addr_traddr" 0.0.0.0
    w "$P2/addr_trsvcid" 4421
    # nvmet starts every group but the default one (1) inaccessible on each port: make group 2 optimized on both.
    mkdir "$P/ana_groups/2" "$P2/ana_groups/2" || fail "mkdir ana group 2"
    w "$P/ana_groups/2/ana_state" optimized
    w "$P2/ana_groups/2/ana_state" optimized
    d="$N/subsystems/$M/namespaces/1"
    mkdir "$d" || fail "mkdir $d"
    w "$d/device_path" /srv/multipath.img
    w "$d/device_uuid" 4e564d45-0007-4000-8000-000000000007
    w "$d/device_nguid" 4e564d45-0007-0000-0000-000000000007
    w "$d/buffered_io" 1
    w "$d/ana_grpid" 2
    w "$d/enable" 1
    ln -s "$N/subsystems/$M" "$P/subsystems/$M" || fail "link $M to port 1"
    ln -s "$N/subsystems/$M" "$P2/subsystems/$M" || fail "link $M to port 2"
    mp="ports=1,2:group=2:$(cat "$P/ana_groups/2/ana_state"),$(cat "$P2/ana_groups/2/ana_state")"
fi

# Opt-in (nvmet_tls=1, with QEMU forwarding host ports to the guest's 4423 and 4424; kernels with
# NVME_TARGET_TCP_TLS and an image with tlshd and nvme-cli: the newest): NVMe/TCP over TLS 1.3 with PSKs.
# - port 3 (4423), addr_tsas tls1.3, TLS required: nqn.2026-11.dev.nvmetcp:tls for two hosts, one per PSK hash, each
#   with a configured PSK inserted into the .nvme keyring under both identity versions (NVMe0R0h / NVMe1R0h), for the
#   subsystem and for the discovery NQN (the discovery controller of a TLS port is reached over TLS as well);
# - port 4 (4424), addr_tsas tls1.3, TLS not required (secure channel concatenation starts in the clear):
#   nqn.2026-11.dev.nvmetcp:concat for one host with a DH-HMAC-CHAP key and a DH group (concatenation needs one);
#   nvmet inserts the PSK it generates itself.
# tlshd runs the handshakes nvmet hands to user space, with keys from the .nvme keyring. Test keys made for this suite
# (TlsTests.cs has the same).
tls=none
if [ "${nvmet_tls:-0}" = 1 ]; then
    [ -x /usr/sbin/tlshd ] && [ -x /usr/sbin/nvme ] || fail "nvmet_tls=1 needs an image with tlshd and nvme-cli"
    grep -q '\.nvme' /proc/keys || fail "no .nvme keyring (nvme_keyring not loaded?)"
    [ -d /sys/module/tls ] || fail "tls.ko is not loaded"
    T=nqn.2026-11.dev.nvmetcp:tls
    C=nqn.2026-11.dev.nvmetcp:concat
    TLS_KEY_256='NVMeTLSkey-1:01:AQ4bKDVCT1xpdoOQnaq3xNHe6/gFEh8sOUZTYG16h5SQWMao:'
    TLS_KEY_384='NVMeTLSkey-1:02:AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVMRdxyRQ==:'
    mkdir -p /etc/tlshd /etc/nvme
    printf '[debug]\nloglevel=6\ntls=0\nnl=0\n[authenticate]\nkeyrings=.nvme\n[authenticate.client]\n[authenticate.server]\n' > /etc/tlshd/config
    truncate -s 8M /srv/tls.img /srv/concat.img || fail "tls files"
    mkdir "$N/subsystems/$T" "$N/subsystems/$C" || fail "mkdir tls subsystems"
    w "$N/subsystems/$T/attr_allow_any_host" 0
    w "$N/subsystems/$T/attr_serial" NVMETCP-TLS-01
    add_namespace "$T" 1 /srv/tls.img 4e564d45-0008-4000-8000-000000000008 4e564d45-0008-0000-0000-000000000008 1
    w "$N/subsystems/$C/attr_allow_any_host" 0
    w "$N/subsystems/$C/attr_serial" NVMETCP-CONCAT-01
    add_namespace "$C" 1 /srv/concat.img 4e564d45-0009-4000-8000-000000000009 4e564d45-0009-0000-0000-000000000009 1
    keys=0
    for pair in "sha256 $TLS_KEY_256" "sha384 $TLS_KEY_384"; do
        set -- $pair
        H="nqn.2026-11.dev.nvmetcp:tls-host-$1"
        mkdir "$N/hosts/$H" || fail "mkdir host $H"
        ln -s "$N/hosts/$H" "$N/subsystems/$T/allowed_hosts/$H" || fail "allowed host link $H"
        # The discovery controller on the TLS port needs TLS too: the same key for the discovery NQN.
        for subsystem in "$T" nqn.2014-08.org.nvmexpress.discovery; do
            for identity in 0 1; do
                /usr/sbin/nvme check-tls-key --insert --identity="$identity" --keydata="$2" --hostnqn="$H" --subsysnqn="$subsystem" \
                    > /tmp/insert.out 2>&1 || fail "insert the PSK of $H for $subsystem (identity $identity): $(cat /tmp/insert.out)"
                keys=$((keys + 1))
            done
        done
    done
    H=nqn.2026-11.dev.nvmetcp:concat-host
    mkdir "$N/hosts/$H" || fail "mkdir host $H"
    w "$N/hosts/$H/dhchap_key" "$AUTH_HOST_KEY"
    w "$N/hosts/$H/dhchap_hash" "hmac(sha256)"
    w "$N/hosts/$H/dhchap_dhgroup" ffdhe2048
    ln -s "$N/hosts/$H" "$N/subsystems/$C/allowed_hosts/$H" || fail "allowed host link $H"
    /usr/sbin/tlshd -s > /dev/console 2>&1 &
    # add_tls_port N PORT TREQ SUBSYSTEM: addr_trtype resets addr_tsas, so tsas (then treq) is written after it.
    add_tls_port() {
        p=$N/ports/$1
        mkdir "$p" || fail "mkdir port $1"
        w "$p/addr_trtype" tcp
        w "$p/addr_adrfam" ipv4
        w "$p/addr_traddr" 0.0.0.0
        w "$p/addr_trsvcid" "$2"
        w "$p/addr_tsas" tls1.3
        w "$p/addr_treq" "$3"
        ln -s "$N/subsystems/$4" "$p/subsystems/$4" || fail "link $4 to port $1"
        echo "$1:$(cat "$p/addr_tsas"):$(cat "$p/addr_treq" | tr ' ' '-')"
    }
    tls="$(add_tls_port 3 4423 required "$T"),$(add_tls_port 4 4424 'not required' "$C"):keys=$keys"
fi

# The multipath control verbs take words from the host: each is checked against a fixed list before it names a
# configfs path.
# ana PORT GROUP STATE: write ports/PORT/ana_groups/GROUP/ana_state.
ana() {
    case "$1" in 1 | 2) ;; *) return 1 ;; esac
    case "$2" in 1 | 2) ;; *) return 1 ;; esac
    case "$3" in optimized | non-optimized | inaccessible | persistent-loss | change) ;; *) return 1 ;; esac
    [ "$#" = 3 ] && [ "$mp" != none ] && echo "$3" > "$N/ports/$1/ana_groups/$2/ana_state"
}
# mp-port-remove PORT / mp-port-add PORT: unlink / link only the multipath subsystem on that port (port 2, which
# serves nothing else, then closes / listens again).
mp_port() {
    case "$2" in 1 | 2) ;; *) return 1 ;; esac
    [ "$#" = 2 ] && [ "$mp" != none ] || return 1
    if [ "$1" = remove ]; then rm "$N/ports/$2/subsystems/$M"; else ln -s "$N/subsystems/$M" "$N/ports/$2/subsystems/$M"; fi
}

# Opt-in (nvmet_control=1, with a second serial port): fixed verbs on ttyS1, each answered "ok VERB" or
# "error VERB" on ttyS1 once done; nothing else runs. Raw mode: no echo, no CR/LF translation.
# port-remove / port-add: unlink / link every subsystem (the port closes / listens again); unlink-interop:
# only the interop subsystem, the port stays up for the others; ana, mp-port-remove, mp-port-add: above.
control=none
if [ "${nvmet_control:-0}" = 1 ]; then
    stty -F /dev/ttyS1 raw -echo || fail "stty ttyS1"
    control=ttyS1
    (
        while read -r verb; do
            echo "NVMET-CONTROL $verb" > /dev/console
            case "$verb" in
                port-remove) port_remove && echo "ok $verb" || echo "error $verb" ;;
                port-add) port_add && echo "ok $verb" || echo "error $verb" ;;
                unlink-interop) rm "$P/subsystems/$S" && echo "ok $verb" || echo "error $verb" ;;
                ping) echo "ok $verb" ;;
                # shellcheck disable=SC2086 # split into words on purpose; ana and mp_port check each one
                "ana "*) ana ${verb#ana } && echo "ok $verb" || echo "error $verb" ;;
                "mp-port-remove "*) mp_port remove ${verb#mp-port-remove } && echo "ok $verb" || echo "error $verb" ;;
                "mp-port-add "*) mp_port add ${verb#mp-port-add } && echo "ok $verb" || echo "error $verb" ;;
                *) echo "error $verb" ;;
            esac
        done < /dev/ttyS1 > /dev/ttyS1
    ) &
fi

echo "NVMET-READY kernel=$(uname -r) ram0_lbs=$(cat /sys/block/ram0/queue/logical_block_size) disk=$disk control=$control auth=$auth resv=$resv mp=$mp tls=$tls uptime=$(cut -d' ' -f1 /proc/uptime)"

sleep "$lifetime"
echo "NVMET-LIFETIME-EXPIRED after $lifetime s"
reboot -f
