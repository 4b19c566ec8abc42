#!/bin/sh
# /init of the initiator VM (busybox sh, PID 1): the guest's Linux kernel NVMe/TCP HOST (nvme-tcp) against OUR
# target, which listens on the host's 127.0.0.1:PORT; slirp maps the guest's 10.0.2.2:PORT to it.
#
# Kernel command line (read from /proc/cmdline: dotted words are not passed to init):
#   nvmetcp.port=PORT            the target's port (required)
#   nvmetcp.nqn=NQN              the NVM subsystem to connect to (required)
#   nvmetcp.hostid=UUID          host ID; the host NQN is nqn.2014-08.org.nvmexpress:uuid:UUID (required)
#   nvmetcp.digests=none,hdr,... scenarios, run one after the other: none, hdr, data, both (default none;
#                                skip runs none)
#   nvmetcp.lifetime=SECONDS     reboot after this long whatever happens (default 600)
#   nvmetcp.auth=CASE@...        last, with nvme-cli (newest-host image): NAME,ok|refused,SECRET|-,CTRLSECRET|-[,HOSTNQN]
#   nvmetcp.tls=CASE@...         after auth, nvme connect over TLS (with tlshd): NAME,ok|refused,tls|tlskey|concat,KEY[,HOSTNQN]
#   nvmetcp.tlskeys=CASE@...     first, with nvme-cli: NAME,HEXSECRET,HMAC,IDENTITY; prints gen-tls-key/check-tls-key output
#   nvmetcp.extra=PHASE,...      after the scenarios, on one more connection without digests (default none):
#                                discard:NSID  write 1 MiB at 48 MiB, blkdiscard 48-64 MiB, read zeros back
#                                fs:NSID       mke2fs, mount, write and read back a 32 MiB file, rm, fstrim, umount
#                                data:NSID     the data test on that namespace (DATA lines, scenario "extra")
#   nvmetcp.dhchap=MODE,...      after extra, DH-HMAC-CHAP connects as host nqn.2026-11.dev.nvmetcp:linux-auth-MODE
#                                (scenario auth-MODE): uni (dhchap_secret), bi (and dhchap_ctrl_secret): connect,
#                                data on namespace 1, delete; wrong (a key the target does not have): the connect
#                                must fail. Keys: nvmetcp.dhchap_secret, nvmetcp.dhchap_ctrl_secret,
#                                nvmetcp.dhchap_wrong_secret (DHHC-1 strings; base64 has no comma or space)
#
# Console protocol (ttyS0), every line starts with NVMETCP-HOST:
#   NVMETCP-HOST-READY kernel=... uptime=...           modules loaded, eth0 up
#   NVMETCP-HOST INFO <scenario> <key>=<value>         what sysfs shows
#   NVMETCP-HOST DATA <scenario> nsid=N offset=B length=B sha256=HEX   what was written (and read back)
#   NVMETCP-HOST PASS <scenario> <step> [details]      a step that worked
#   NVMETCP-HOST-FAILED <scenario>/<step> <why>        then dmesg's nvme lines; the VM reboots (QEMU exits)
#   NVMETCP-HOST DMESG <line>                          the kernel's nvme log lines, at the end
#   NVMETCP-HOST-DONE uptime=...                       every scenario passed; the VM reboots
# Every wait is bounded: sysfs waits by loops; dd and the connect writes by the kernel's own NVMe admin and I/O
# timeouts, lowered to 15 s (nvme_core admin_timeout/io_timeout, see build-initramfs.py; busybox `timeout` cannot
# kill a process blocked in the kernel anyway); ctrl_loss_tmo=0 makes a lost connection fail the controller at once
# instead of reconnecting for 10 minutes; nvmetcp.lifetime reboots the guest whatever happens.
export PATH=/bin

/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=32m tmpfs /tmp

arg() {
    for word in $(cat /proc/cmdline); do
        case "$word" in
            "nvmetcp.$1="*) echo "${word#*=}"; return ;;
        esac
    done
    echo "$2"
}

PORT=$(arg port '')
NQN=$(arg nqn '')
HOSTID=$(arg hostid '')
DIGESTS=$(arg digests none)
LIFETIME=$(arg lifetime 600)
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:$HOSTID
DISCOVERY=nqn.2014-08.org.nvmexpress.discovery
SCENARIO=setup

# Whatever happens, the VM ends: QEMU runs with -no-reboot.
(sleep "$LIFETIME"; echo "NVMETCP-HOST-FAILED lifetime expired after $LIFETIME s"; reboot -f) &

fail() {
    echo "NVMETCP-HOST-FAILED $SCENARIO/$1 $2"
    dmesg | grep -iE 'nvme|tcp' | tail -n 40
    sleep 1
    reboot -f
    sleep 60
}

pass() {
    echo "NVMETCP-HOST PASS $SCENARIO $*"
}

info() {
    echo "NVMETCP-HOST INFO $SCENARIO $1=$2"
}

[ -n "$PORT" ] && [ -n "$NQN" ] && [ -n "$HOSTID" ] || fail cmdline "nvmetcp.port, nvmetcp.nqn and nvmetcp.hostid are required"

while read -r name flag params; do
    # shellcheck disable=SC2086 # params holds several words
    if ! insmod "/modules/$name.ko" $params 2> /tmp/insmod.err; then
        [ "$flag" = required ] && fail insmod "$name: $(cat /tmp/insmod.err)"
        echo "note: optional module $name not loaded: $(cat /tmp/insmod.err)"
    fi
done < /etc/modules.order

# wait_for STEP TENTHS CONDITION...: polls CONDITION every 100 ms, at most TENTHS times.
wait_for() {
    step=$1 tenths=$2
    shift 2
    i=0
    until "$@"; do
        i=$((i + 1))
        [ "$i" -gt "$tenths" ] && fail "$step" "timed out waiting for: $*"
        usleep 100000
    done
}

wait_for eth0 100 test -e /sys/class/net/eth0
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 || fail eth0 "address"
ip link set eth0 up || fail eth0 "up"
ip route add default via 10.0.2.2 || fail eth0 "default route"
wait_for nvme-fabrics 100 test -c /dev/nvme-fabrics

echo "NVMETCP-HOST-READY kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"

# --- nvme-cli's TLS keys (nvmetcp.tlskeys, images with nvme-cli only): what gen-tls-key and check-tls-key make of
# fixed inputs, for the known-answer comparison with NvmeTcp.Protocol.Tls. Cases separated by '@', fields by ',':
# NAME,HEXSECRET,HMAC,IDENTITY. Host NQN and subsystem NQN are this run's. Each case prints
#   NVMETCP-HOST TLSKEY NAME gen KEY              (nvme gen-tls-key --secret --hmac)
#   NVMETCP-HOST TLSKEY NAME identity IDENTITY    (nvme check-tls-key --identity)
#   NVMETCP-HOST TLSKEY NAME keyfile IDENTITY KEY (check-tls-key --insert --keyfile: the derived TLS PSK, exported)
TLSKEYS=$(arg tlskeys '')
if [ -n "$TLSKEYS" ]; then
    SCENARIO=tlskeys
    [ -x /usr/sbin/nvme ] || fail nvme-cli "this image has no nvme-cli"
    info nvme-cli.version "$(/usr/sbin/nvme version 2>&1 | tr '\n' ' ')"
    for case in $(echo "$TLSKEYS" | tr '@' ' '); do
        IFS=, read -r name secret hmac identity << CASE
$case
CASE
        key=$(/usr/sbin/nvme gen-tls-key --secret="$secret" --hmac="$hmac" 2> /tmp/tls.err) || fail "$name-gen" "$(cat /tmp/tls.err)"
        echo "NVMETCP-HOST TLSKEY $name gen $key"
        id=$(/usr/sbin/nvme check-tls-key --keydata="$key" --hostnqn="$HOSTNQN" --subsysnqn="$NQN" --identity="$identity" 2> /tmp/tls.err) \
            || fail "$name-check" "$(cat /tmp/tls.err)"
        echo "NVMETCP-HOST TLSKEY $name identity $id"
        rm -f "/tmp/keys-$name"
        if /usr/sbin/nvme check-tls-key --keydata="$key" --hostnqn="$HOSTNQN" --subsysnqn="$NQN" --identity="$identity" \
            --insert --keyfile="/tmp/keys-$name" > /tmp/tls.out 2>&1; then
            sed "s/^/NVMETCP-HOST TLSKEY $name keyfile /" "/tmp/keys-$name"
        else
            info "$name-insert" "$(tr '\n' ' ' < /tmp/tls.out)"
        fi
        pass "$name"
    done
fi

# connect STEP OPTIONS: writes the options to /dev/nvme-fabrics in one write and reads back the new controller's
# "instance=N,cntlid=M" on the same open file, as nvme-cli does. Sets CTRL to nvmeN.
# The write runs in a subshell, not in PID 1: orphans are reparented to PID 1, and the SIGCHLD of one ending during
# the write interrupts the kernel's socket connect ("failed to connect socket: -512", -ERESTARTSYS). Seen once, when
# busybox `timeout` wrapped dd: its watcher process outlives dd by up to a second, as an orphan.
connect() {
    reply=$(
        exec 3<> /dev/nvme-fabrics || exit 1
        printf '%s' "$2" >&3 || exit 2
        read -r line <&3
        echo "$line"
    ) || fail "$1" "connect refused (exit $?): $2"
    instance=${reply#instance=}
    instance=${instance%%,*}
    case "$instance" in
        '' | *[!0-9]*) fail "$1" "unexpected reply from /dev/nvme-fabrics: $reply" ;;
    esac
    CTRL=nvme$instance
    info "$1.reply" "$reply"
}

# disconnect STEP: deletes $CTRL (an orderly shutdown: CC.SHN, then the queues close) and waits until it is gone.
disconnect() {
    echo 1 > "/sys/class/nvme/$CTRL/delete_controller" || fail "$1" "delete_controller"
    wait_for "$1" 100 test ! -e "/sys/class/nvme/$CTRL"
    pass "$1" "$CTRL"
}

no_nvme_disk() {
    ! ls /sys/block | grep -qE '^nvme[0-9]+n[0-9]+$'
}

# disk_of NSID: the namespace's block device (the multipath head nvmeXnY; nvmeXcZnY are its hidden paths).
disk_of() {
    for d in /sys/block/nvme*n*; do
        name=${d##*/}
        case "$name" in *c*) continue ;; esac
        [ "$(cat "$d/nsid" 2> /dev/null)" = "$1" ] && { echo "$name"; return; }
    done
}

has_disk() {
    [ -n "$(disk_of "$1")" ]
}

# Random data of each size, written at 3 offsets per namespace; the host checks the target holds it (SHA-256).
dd if=/dev/urandom of=/tmp/p4k bs=4096 count=1 2> /dev/null
dd if=/dev/urandom of=/tmp/p64k bs=65536 count=1 2> /dev/null
dd if=/dev/urandom of=/tmp/p1m bs=1048576 count=1 2> /dev/null

# data_test NSID BASE: writes 4 KiB at BASE, 64 KiB at BASE+1 MiB and 1 MiB at BASE+3 MiB with O_DIRECT (the last
# with fsync: a Flush), reads each back with O_DIRECT and compares.
data_test() {
    nsid=$1 base=$2
    disk=$(disk_of "$nsid")
    for spec in "p4k 4096 0" "p64k 65536 1048576" "p1m 1048576 3145728"; do
        set -- $spec
        file=/tmp/$1 length=$2 offset=$((base + $3))
        step="write-ns$nsid-$length"
        dd if="$file" of="/dev/$disk" bs="$length" count=1 seek="$offset" oflag=seek_bytes,direct conv=fsync 2> /tmp/dd.err \
            || fail "$step" "dd: $(cat /tmp/dd.err)"
        pass "$step" "offset=$offset"
        step="read-ns$nsid-$length"
        rm -f /tmp/back
        dd if="/dev/$disk" of=/tmp/back bs="$length" count=1 skip="$offset" iflag=skip_bytes,direct 2> /tmp/dd.err \
            || fail "$step" "dd: $(cat /tmp/dd.err)"
        written=$(sha256sum < "$file" | cut -d' ' -f1)
        read=$(sha256sum < /tmp/back | cut -d' ' -f1)
        [ "$written" = "$read" ] || fail "compare-ns$nsid-$length" "wrote sha256 $written, read back $read"
        pass "compare-ns$nsid-$length" "offset=$offset sha256=$read"
        echo "NVMETCP-HOST DATA $SCENARIO nsid=$nsid offset=$offset length=$length sha256=$written"
    done
}

index=0
[ "$DIGESTS" = skip ] && DIGESTS=
for SCENARIO in $(echo "$DIGESTS" | tr ',' ' '); do
    case "$SCENARIO" in
        none) digest_options= ;;
        hdr) digest_options=,hdr_digest ;;
        data) digest_options=,data_digest ;;
        both) digest_options=,hdr_digest,data_digest ;;
        *) fail scenario "unknown digest scenario '$SCENARIO'" ;;
    esac
    common="transport=tcp,traddr=10.0.2.2,trsvcid=$PORT,hostnqn=$HOSTNQN,hostid=$HOSTID,ctrl_loss_tmo=0$digest_options"

    # 1. Discovery controller: connect (ICReq, Connect, Property Get/Set, Identify), check, delete. Reading the
    #    discovery log needs an ioctl busybox has no applet for; our own client covers the log.
    connect discovery-connect "$common,nqn=$DISCOVERY"
    wait_for discovery-live 100 grep -qx live "/sys/class/nvme/$CTRL/state"
    [ "$(cat "/sys/class/nvme/$CTRL/subsysnqn")" = "$DISCOVERY" ] || fail discovery-connect "subsysnqn $(cat "/sys/class/nvme/$CTRL/subsysnqn")"
    info discovery.subsysnqn "$(cat "/sys/class/nvme/$CTRL/subsysnqn")"
    pass discovery-connect "$CTRL"
    disconnect discovery-delete

    # 2. The NVM subsystem: connect with this scenario's digests, wait for both namespaces, print what sysfs shows.
    connect connect "$common,nqn=$NQN"
    wait_for connect-live 100 grep -qx live "/sys/class/nvme/$CTRL/state"
    pass connect "$CTRL"
    for attr in model serial firmware_rev subsysnqn hostnqn transport address cntlid queue_count sqsize kato state; do
        [ -e "/sys/class/nvme/$CTRL/$attr" ] && info "ctrl.$attr" "$(cat "/sys/class/nvme/$CTRL/$attr")"
    done
    wait_for namespaces 200 has_disk 1
    wait_for namespaces 200 has_disk 2
    pass namespaces
    for nsid in 1 2; do
        d=/sys/block/$(disk_of $nsid)
        info "ns$nsid.disk" "${d##*/}"
        info "ns$nsid.size_sectors" "$(cat "$d/size")"
        info "ns$nsid.logical_block_size" "$(cat "$d/queue/logical_block_size")"
        for attr in nguid uuid wwid eui; do
            [ -e "$d/$attr" ] && info "ns$nsid.$attr" "$(cat "$d/$attr")"
        done
    done

    # 3. Data: each scenario writes its own 8 MiB region, so the host can tell them apart.
    base=$((index * 8388608))
    data_test 1 "$base"
    data_test 2 "$base"

    # 4. Orderly shutdown.
    disconnect delete
    wait_for delete 100 no_nvme_disk
    index=$((index + 1))
done

# --- Extra phases (nvmetcp.extra): discard, a filesystem with fstrim, data on one more namespace ---

dd if=/dev/zero of=/tmp/z1m bs=1048576 count=1 2> /dev/null

# discard_test NSID: the kernel's discard path (Dataset Management, 4 KiB of ranges) through blkdiscard.
discard_test() {
    disk=$(disk_of "$1") step="blkdiscard-ns$1"
    info "ns$1.discard_max_bytes" "$(cat "/sys/block/$disk/queue/discard_max_bytes")"
    [ "$(cat "/sys/block/$disk/queue/discard_max_bytes")" != 0 ] || fail "$step" "the kernel sees no discard support"
    dd if=/tmp/p1m of="/dev/$disk" bs=1048576 count=1 seek=48 oflag=direct conv=fsync 2> /tmp/dd.err || fail "$step" "dd: $(cat /tmp/dd.err)"
    blkdiscard -o $((48 * 1048576)) -l $((16 * 1048576)) "/dev/$disk" 2> /tmp/discard.err || fail "$step" "blkdiscard: $(cat /tmp/discard.err)"
    pass "$step"
    rm -f /tmp/back
    dd if="/dev/$disk" of=/tmp/back bs=1048576 count=1 skip=48 iflag=direct 2> /tmp/dd.err || fail "$step" "dd: $(cat /tmp/dd.err)"
    [ "$(sha256sum < /tmp/back | cut -d' ' -f1)" = "$(sha256sum < /tmp/z1m | cut -d' ' -f1)" ] || fail "discard-zeros-ns$1" "deallocated blocks do not read as zeros"
    pass "discard-zeros-ns$1"
}

# fs_test NSID: a filesystem on the namespace; fstrim discards its free blocks (the removed file's among them).
fs_test() {
    disk=$(disk_of "$1")
    mke2fs -F -b 4096 "/dev/$disk" > /tmp/mkfs.log 2>&1 || fail "mkfs-ns$1" "$(tail -n 5 /tmp/mkfs.log)"
    pass "mkfs-ns$1"
    mkdir -p /mnt/fs
    { mount -t ext2 "/dev/$disk" /mnt/fs || mount -t ext4 "/dev/$disk" /mnt/fs; } 2> /tmp/mount.err || fail "mount-ns$1" "$(cat /tmp/mount.err)"
    pass "mount-ns$1"
    dd if=/dev/urandom of=/mnt/fs/fill bs=1048576 count=32 2> /tmp/dd.err || fail "write-fs-ns$1" "dd: $(cat /tmp/dd.err)"
    written=$(sha256sum < /mnt/fs/fill | cut -d' ' -f1)
    sync
    echo 3 > /proc/sys/vm/drop_caches
    [ "$(sha256sum < /mnt/fs/fill | cut -d' ' -f1)" = "$written" ] || fail "read-fs-ns$1" "the file reads back otherwise"
    pass "file-fs-ns$1" "sha256=$written"
    rm /mnt/fs/fill
    sync
    fstrim -v /mnt/fs > /tmp/fstrim.out 2>&1 || fail "fstrim-ns$1" "$(cat /tmp/fstrim.out)"
    pass "fstrim-ns$1" "$(cat /tmp/fstrim.out)"
    umount /mnt/fs || fail "umount-ns$1" "umount"
    pass "umount-ns$1"
}

EXTRA=$(arg extra '')
if [ -n "$EXTRA" ]; then
    SCENARIO=extra
    connect extra-connect "transport=tcp,traddr=10.0.2.2,trsvcid=$PORT,hostnqn=$HOSTNQN,hostid=$HOSTID,ctrl_loss_tmo=0,nqn=$NQN"
    wait_for extra-live 100 grep -qx live "/sys/class/nvme/$CTRL/state"
    for phase in $(echo "$EXTRA" | tr ',' ' '); do
        nsid=${phase#*:}
        wait_for "extra-ns$nsid" 200 has_disk "$nsid"
        case "$phase" in
            discard:*) discard_test "$nsid" ;;
            fs:*) fs_test "$nsid" ;;
            data:*) data_test "$nsid" 0 ;;
            *) fail extra "unknown phase '$phase'" ;;
        esac
    done
    disconnect extra-delete
    wait_for extra-delete 100 no_nvme_disk
fi

# --- DH-HMAC-CHAP through the kernel's own options (nvmetcp.dhchap; no nvme-cli needed) ---

DHCHAP=$(arg dhchap '')
for mode in $(echo "$DHCHAP" | tr ',' ' '); do
    SCENARIO=auth-$mode
    case "$mode" in
        uni) secrets="dhchap_secret=$(arg dhchap_secret '')" ;;
        bi) secrets="dhchap_secret=$(arg dhchap_secret ''),dhchap_ctrl_secret=$(arg dhchap_ctrl_secret '')" ;;
        wrong) secrets="dhchap_secret=$(arg dhchap_wrong_secret '')" ;;
        *) fail auth "unknown auth mode '$mode'" ;;
    esac
    options="transport=tcp,traddr=10.0.2.2,trsvcid=$PORT,hostnqn=nqn.2026-11.dev.nvmetcp:linux-auth-$mode,hostid=$HOSTID,ctrl_loss_tmo=0,nqn=$NQN,$secrets"
    if [ "$mode" = wrong ]; then
        # The kernel fails the connect write itself when the controller answers AUTH_Failure1.
        if reply=$(
            exec 3<> /dev/nvme-fabrics || exit 1
            printf '%s' "$options" >&3 || exit 2
            read -r line <&3
            echo "$line"
        ); then
            fail auth-refused "the connect with a wrong key succeeded: $reply"
        fi
        pass auth-refused
        continue
    fi
    connect auth-connect "$options"
    wait_for auth-live 100 grep -qx live "/sys/class/nvme/$CTRL/state"
    pass auth-connect "$CTRL"
    wait_for auth-ns1 200 has_disk 1
    data_test 1 $((index * 8388608))
    index=$((index + 1))
    disconnect auth-delete
    wait_for auth-delete 100 no_nvme_disk
done

# --- nvme-cli (nvmetcp.auth, images with nvme-cli only): `nvme connect` with DH-HMAC-CHAP, as an operator runs it ---
# Cases separated by '@', fields by ',' (neither is in a DHHC-1 secret): NAME,EXPECT,SECRET,CTRLSECRET with EXPECT ok
# (connect, data on namespace 1, disconnect) or refused; '-' for no secret. A refused case can leave `nvme connect`
# blocked in the kernel for good (7.2/7.3: about 1 in 3, in nvme_auth_wait), so it runs in the background with a
# deadline and refused cases go last; the test then checks on the target's side that it refused the host.
ctrl_of_subsystem() {
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2> /dev/null)" = "$1" ] && { echo "${c##*/}"; return; }
    done
}

# connect_case EXPECT ARGS...: `nvme connect ARGS` expected to succeed (then data on namespace 1 and a disconnect) or
# to be refused. A refused connect may block in the kernel for good, so it runs in the background with a deadline.
connect_case() {
    expect=$1
    shift
    case "$expect" in
        ok)
            (/usr/sbin/nvme connect "$@" > /tmp/connect.out 2>&1) || fail connect "nvme connect: $(cat /tmp/connect.out)"
            info connect.out "$(tr '\n' ' ' < /tmp/connect.out)"
            CTRL=$(ctrl_of_subsystem "$NQN")
            [ -n "$CTRL" ] || fail connect "no controller of $NQN after nvme connect: $(cat /tmp/connect.out)"
            wait_for connect-live 100 grep -qx live "/sys/class/nvme/$CTRL/state"
            pass connect "$CTRL"
            wait_for namespaces 200 has_disk 1
            data_test 1 "$base"
            disconnect delete
            wait_for delete 100 no_nvme_disk
            ;;
        refused)
            /usr/sbin/nvme connect "$@" > /tmp/connect.out 2>&1 &
            pid=$!
            i=0
            while kill -0 "$pid" 2> /dev/null && [ "$i" -lt 300 ]; do
                usleep 100000
                i=$((i + 1))
            done
            if kill -0 "$pid" 2> /dev/null; then
                pass refused "pending after 30 s"
            else
                wait "$pid"
                rc=$?
                [ "$rc" != 0 ] || fail refused "nvme connect succeeded: $(cat /tmp/connect.out)"
                pass refused "exit=$rc $(head -n 1 /tmp/connect.out)"
            fi
            c=$(ctrl_of_subsystem "$NQN")
            [ -z "$c" ] || ! grep -qx live "/sys/class/nvme/$c/state" || fail refused "$c is live"
            ;;
        *) fail case "unknown expectation '$expect'" ;;
    esac
}

nvme_cli_setup() {
    [ -x /usr/sbin/nvme ] || fail nvme-cli "this image has no nvme-cli"
    info nvme-cli.version "$(/usr/sbin/nvme version 2>&1 | tr '\n' ' ')"
    mkdir -p /etc/nvme
    echo "$HOSTNQN" > /etc/nvme/hostnqn
    echo "$HOSTID" > /etc/nvme/hostid
}

AUTH=$(arg auth '')
if [ -n "$AUTH" ]; then
    SCENARIO=auth
    nvme_cli_setup
    base=0
    for case in $(echo "$AUTH" | tr '@' ' '); do
        IFS=, read -r name expect secret ctrl_secret case_hostnqn << CASE
$case
CASE
        SCENARIO=auth-$name
        set -- -t tcp -a 10.0.2.2 -s "$PORT" -n "$NQN" --hostnqn="${case_hostnqn:-$HOSTNQN}" --hostid="$HOSTID" --ctrl-loss-tmo=0
        [ "$secret" = - ] || set -- "$@" --dhchap-secret="$secret"
        [ "$ctrl_secret" = - ] || set -- "$@" --dhchap-ctrl-secret="$ctrl_secret"
        connect_case "$expect" "$@"
    done
fi

# --- nvme-cli over TLS (nvmetcp.tls, images with nvme-cli and tlshd): the kernel's TLS 1.3 with PSKs, its handshake
# done by tlshd with keys from the .nvme keyring, against our target. Cases separated by '@', fields by ',':
# NAME,EXPECT,MODE,KEY[,HOSTNQN] with EXPECT ok or refused and MODE
#   tls     `nvme check-tls-key --insert --identity=0` of KEY (NVMeTLSkey-1), then `nvme connect --tls`
#   tlskey  `nvme connect --tls --tls-key=KEY -vv` (nvme-cli inserts it itself, identity version 1; -vv logs the
#           options string it hands the kernel, which the test checks for tls_key= and tls)
#   concat  `nvme connect --dhchap-secret=KEY --concat` (secure channel concatenation: DH-HMAC-CHAP, then TLS with the
#           PSK generated from it)
# tlshd logs each handshake on the console ("Handshake request succeeded", the PSK identity it used).
TLS=$(arg tls '')
if [ -n "$TLS" ]; then
    SCENARIO=tls
    nvme_cli_setup
    [ -x /usr/sbin/tlshd ] || fail tlshd "this image has no tlshd"
    grep -q '\.nvme' /proc/keys || fail keyring "no .nvme keyring (nvme_keyring not loaded?)"
    mkdir -p /etc/tlshd
    printf '[debug]\nloglevel=6\ntls=0\nnl=0\n[authenticate]\nkeyrings=.nvme\n[authenticate.client]\n[authenticate.server]\n' > /etc/tlshd/config
    /usr/sbin/tlshd -s > /dev/console 2>&1 &
    base=$((16 * 1048576))
    for case in $(echo "$TLS" | tr '@' ' '); do
        IFS=, read -r name expect mode key case_hostnqn << CASE
$case
CASE
        SCENARIO=tls-$name
        host=${case_hostnqn:-$HOSTNQN}
        set -- -t tcp -a 10.0.2.2 -s "$PORT" -n "$NQN" --hostnqn="$host" --hostid="$HOSTID" --ctrl-loss-tmo=0
        case "$mode" in
            tls)
                /usr/sbin/nvme check-tls-key --insert --identity=0 --keydata="$key" --hostnqn="$host" --subsysnqn="$NQN" \
                    > /tmp/insert.out 2>&1 || fail insert "$(cat /tmp/insert.out)"
                info inserted "$(tr '\n' ' ' < /tmp/insert.out)"
                set -- "$@" --tls
                ;;
            tlskey) set -- "$@" --tls --tls-key="$key" -vv ;;
            concat) set -- "$@" --dhchap-secret="$key" --concat ;;
            *) fail case "unknown TLS mode '$mode'" ;;
        esac
        connect_case "$expect" "$@"
        base=$((base + 8 * 1048576))
    done
fi

# What the kernel logged about the controllers (warnings such as "Firmware bug" included); the test checks them.
dmesg | grep -E 'nvme([0-9]| |_tcp|_fabrics|_core)' | sed 's/^/NVMETCP-HOST DMESG /'
echo "NVMETCP-HOST-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
sleep 1
reboot -f
