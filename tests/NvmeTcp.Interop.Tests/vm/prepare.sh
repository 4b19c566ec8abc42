#!/usr/bin/env bash
# Prepares everything the interop VMs need, from Debian's package registry only:
#   - installs qemu-system-x86, busybox-static and python3 when missing (root, apt-get);
#   - per kernel (6.1: linux-image-amd64's dependency; 6.12: linux-image-6.12-amd64's, from
#     bookworm-security), downloads the kernel .deb with `apt-get download` (never installed),
#     extracts it with `dpkg -x` and builds vmlinuz + a gzip initramfs whose /init is init.sh;
#   - the newest kernel (label "newest", 7.x today) from Debian unstable or trixie-backports, through a private apt
#     configuration (see build_newest);
#   - for 6.12 also a second initramfs, initrd-host.gz, whose /init is init-host.sh: the kernel's own NVMe/TCP
#     initiator (nvme-tcp) against our target (LinuxHostTests).
# Results are cached outside the repository, keyed by package version and by a hash of the build
# inputs, and reused: ${NVMETCP_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmetcp-interop}.
#
# Output (stdout), one line per kernel; diagnostics go to stderr:
#   IMAGE <label> <package> <version> <vmlinuz> <initrd>
# and one for the initiator image, labelled <kernel>-host (6.12-host).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${NVMETCP_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmetcp-interop}
mkdir -p "$cache/debs" "$cache/images"
export DEBIAN_FRONTEND=noninteractive

log() { echo "prepare: $*" >&2; }

# One prepare at a time per cache (two test runs at once share it).
exec 9> "$cache/.lock"
flock -w 900 9 || { log "timed out waiting for $cache/.lock"; exit 1; }

updated=0
apt_update() {
    if [ "$updated" = 0 ]; then
        log "apt-get update"
        apt-get update -qq >&2
        updated=1
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2> /dev/null | grep -q 'install ok installed'; }

missing=()
for pkg in qemu-system-x86 busybox-static python3; do
    installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        log "missing packages: ${missing[*]}; run as root or: apt-get install --no-install-recommends ${missing[*]}"
        exit 1
    fi
    apt_update
    log "installing ${missing[*]}"
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" > "$cache/apt-install.log" 2>&1; then
        tail -n 30 "$cache/apt-install.log" >&2
        exit 1
    fi
fi

# A new directory under the cache for `apt-get download`: apt drops to the _apt user to download, so let it write
# there (else a warning, and it downloads unsandboxed).
new_download_dir() {
    local dir
    dir=$(mktemp -d "$cache/debs/.download.XXXXXX")
    if [ "$(id -u)" = 0 ] && id _apt > /dev/null 2>&1; then chown _apt "$dir"; fi
    echo "$dir"
}

# The concrete kernel package a metapackage depends on (e.g. linux-image-6.1.0-56-amd64).
resolve() {
    apt-cache depends "$1" 2> /dev/null | awk '/^ *Depends: *linux-image-/ { print $2; exit }'
}

candidate() {
    apt-cache policy "$1" 2> /dev/null | awk '/Candidate:/ { print $2; exit }'
}

# Changing the build inputs rebuilds the images.
inputs_hash=$(cat "$here/build-initramfs.py" "$here/init.sh" "$here/init-host.sh" /bin/busybox | sha256sum | cut -c1-12)

# build LABEL METAPACKAGE [host]: with "host", the image also gets initrd-host.gz (init-host.sh).
build() {
    local label=$1 meta=$2 host=${3:-} pkg version key deb image work
    pkg=$(resolve "$meta")
    if [ -z "$pkg" ]; then
        apt_update
        pkg=$(resolve "$meta")
    fi
    [ -n "$pkg" ] || { log "cannot resolve $meta (is bookworm-security in the apt sources?)"; exit 1; }
    version=$(candidate "$pkg")
    [ -n "$version" ] && [ "$version" != "(none)" ] || { log "no candidate version of $pkg"; exit 1; }

    key="${pkg}_${version}"
    image="$cache/images/${key}_${inputs_hash}"
    if [ -s "$image/vmlinuz" ] && [ -s "$image/initrd.gz" ] && { [ -z "$host" ] || [ -s "$image/initrd-host.gz" ]; }; then
        log "$label: cached $image"
        touch "$image" # in use: see the pruning below
        echo "IMAGE $label $pkg $version $image/vmlinuz $image/initrd.gz"
        [ -z "$host" ] || echo "IMAGE $label-host $pkg $version $image/vmlinuz $image/initrd-host.gz"
        return
    fi

    deb="$cache/debs/${key}_amd64.deb"
    if [ ! -s "$deb" ]; then
        log "$label: downloading $pkg=$version"
        local tmp
        tmp=$(new_download_dir)
        if ! (cd "$tmp" && apt-get download -qq "$pkg=$version" >&2); then
            apt_update
            (cd "$tmp" && apt-get download -qq "$pkg=$version" >&2)
        fi
        mv "$tmp"/*.deb "$deb"
        rm -rf "$tmp"
        # Older versions of this package are of no further use.
        find "$cache/debs" -maxdepth 1 -name "${pkg}_*.deb" ! -name "$(basename "$deb")" -delete
    fi

    work=$(mktemp -d "$cache/images/.build.XXXXXX")
    trap 'rm -rf "$work"' RETURN
    log "$label: extracting $(basename "$deb")"
    dpkg -x "$deb" "$work/root"
    mkdir "$work/out"
    cp "$work"/root/boot/vmlinuz-* "$work/out/vmlinuz"
    log "$label: building the initramfs"
    python3 "$here/build-initramfs.py" "$work/root" /bin/busybox "$here/init.sh" "$work/out/initrd.gz" >&2
    if [ -n "$host" ]; then
        log "$label: building the initiator initramfs"
        python3 "$here/build-initramfs.py" "$work/root" /bin/busybox "$here/init-host.sh" "$work/out/initrd-host.gz" host >&2
    fi
    echo "$pkg $version" > "$work/out/package"
    rm -rf "$image"
    mv "$work/out" "$image"
    # Other images of this package go once unused for a day: another checkout (other build inputs, another hash)
    # sharing this cache may be booting its own right now.
    find "$cache/images" -mindepth 1 -maxdepth 1 -name "${pkg}_*" ! -path "$image" -mmin +1440 -exec rm -rf {} +
    echo "IMAGE $label $pkg $version $image/vmlinuz $image/initrd.gz"
    [ -z "$host" ] || echo "IMAGE $label-host $pkg $version $image/vmlinuz $image/initrd-host.gz"
}

# The newest Debian kernel (7.x): from unstable or trixie-backports, whichever has the higher linux-image-amd64,
# through an apt configuration of our own under the cache (never the machine's /etc/apt). In 7.x linux-image-<ver>
# is empty: the kernel is in linux-binary-<ver> (usr/lib/modules/<ver>/vmlinuz) and the modules in
# linux-modules-<ver>.
newest_apt_dir="$cache/apt-newest"
newest_apt() {
    "$@" -o Dir::Etc::SourceList="$newest_apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$newest_apt_dir/lists" -o Dir::Cache="$newest_apt_dir/cache"
}

# User space of the newest images (target and host): nvme-cli, tlshd (ktls-utils: the TLS handshake the kernel hands
# to user space), keyctl, and the shared libraries they load (build-initramfs.py walks the ELF DT_NEEDED entries and
# fails if one is missing here).
newest_host_debs=(nvme-cli libnvme1t64 libjson-c5 libkeyutils1 libssl3t64 zlib1g libzstd1 libc6 libgcc-s1
    ktls-utils keyutils libgnutls30t64 libglib2.0-0t64 libnl-3-200 libnl-genl-3-200 libp11-kit0 libidn2-0
    libunistring5 libtasn1-6 libhogweed6t64 libnettle8t64 libgmp10 libatomic1 libpcre2-8-0 libffi8)

# build_newest LABEL [host]: with "host", also initrd-host.gz (init-host.sh) with nvme-cli from the same suites.
build_newest() {
    local label=$1 host=${2:-} sources meta_version kver version key image work userkey=""
    mkdir -p "$newest_apt_dir/lists/partial" "$newest_apt_dir/cache/archives/partial"
    sources=$'deb http://deb.debian.org/debian sid main\ndeb http://deb.debian.org/debian trixie-backports main'
    if [ "$(cat "$newest_apt_dir/sources.list" 2> /dev/null)" != "$sources" ]; then
        printf '%s\n' "$sources" > "$newest_apt_dir/sources.list"
        rm -f "$newest_apt_dir/lists/"*Packages* "$newest_apt_dir/lists/"*Release*
    fi
    if [ "$(id -u)" = 0 ] && id _apt > /dev/null 2>&1; then chown -R _apt "$newest_apt_dir/lists/partial"; fi
    # The index is refreshed once a day: a new kernel upload then becomes the one under test.
    if [ -z "$(find "$newest_apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 -print -quit)" ]; then
        log "$label: apt-get update (sid, trixie-backports; private configuration)"
        newest_apt apt-get update -qq >&2
    fi

    meta_version=$(newest_apt apt-cache madison linux-image-amd64 | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -u | {
            best=""
            while read -r v; do
                if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
            done
            echo "$best"
        })
    [ -n "$meta_version" ] || { log "$label: no linux-image-amd64 in sid or trixie-backports"; exit 1; }
    kver=$(newest_apt apt-cache show "linux-image-amd64=$meta_version" | awk -F': ' '/^Depends:/ { print $2; exit }' |
        tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\) .*/\1/p' | head -n 1)
    [ -n "$kver" ] || { log "$label: cannot read the kernel version linux-image-amd64=$meta_version depends on"; exit 1; }
    version=$meta_version

    if [ -n "$host" ]; then
        # The user-space packages' candidate versions are part of the image's key.
        local p v
        for p in "${newest_host_debs[@]}"; do
            v=$(newest_apt apt-cache policy "$p" | awk '/Candidate:/ { print $2; exit }')
            [ -n "$v" ] && [ "$v" != "(none)" ] || { log "$label: no candidate for $p"; exit 1; }
            userkey+="$p=$v "
        done
        userkey=$(echo "$userkey" | sha256sum | cut -c1-8)
    fi

    key="linux-image-${kver}_${version}"
    image="$cache/images/${key}_${inputs_hash}${userkey:+_$userkey}"
    if [ -s "$image/vmlinuz" ] && [ -s "$image/initrd.gz" ] && { [ -z "$host" ] || [ -s "$image/initrd-host.gz" ]; }; then
        log "$label: cached $image"
        touch "$image"
        echo "IMAGE $label linux-image-$kver $version $image/vmlinuz $image/initrd.gz"
        [ -z "$host" ] || echo "IMAGE $label-host linux-image-$kver $version $image/vmlinuz $image/initrd-host.gz"
        return
    fi

    local pkg deb tmp
    for pkg in "linux-binary-$kver" "linux-modules-$kver"; do
        deb="$cache/debs/${pkg}_${version}_amd64.deb"
        [ -s "$deb" ] && continue
        log "$label: downloading $pkg=$version"
        tmp=$(new_download_dir)
        (cd "$tmp" && newest_apt apt-get download -qq "$pkg=$version" >&2)
        mv "$tmp"/*.deb "$deb"
        rm -rf "$tmp"
        find "$cache/debs" -maxdepth 1 -name "${pkg%%-[0-9]*}-[0-9]*.deb" ! -name "$(basename "$deb")" -delete
    done

    work=$(mktemp -d "$cache/images/.build.XXXXXX")
    trap 'rm -rf "$work"' RETURN
    log "$label: extracting linux-binary-$kver and linux-modules-$kver"
    dpkg -x "$cache/debs/linux-binary-${kver}_${version}_amd64.deb" "$work/root"
    dpkg -x "$cache/debs/linux-modules-${kver}_${version}_amd64.deb" "$work/root"
    mkdir "$work/out"
    cp "$work/root/usr/lib/modules/$kver/vmlinuz" "$work/out/vmlinuz"
    if [ -n "$host" ]; then
        mkdir "$work/user"
        tmp=$(new_download_dir)
        log "$label: downloading ${newest_host_debs[*]}"
        (cd "$tmp" && newest_apt apt-get download -qq "${newest_host_debs[@]}" >&2)
        for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$work/user"; done
        rm -rf "$tmp"
    fi
    log "$label: building the initramfs${host:+ (with nvme-cli and tlshd)}"
    python3 "$here/build-initramfs.py" "$work/root" /bin/busybox "$here/init.sh" "$work/out/initrd.gz" target ${host:+"$work/user"} >&2
    if [ -n "$host" ]; then
        log "$label: building the initiator initramfs (with nvme-cli and tlshd)"
        python3 "$here/build-initramfs.py" "$work/root" /bin/busybox "$here/init-host.sh" "$work/out/initrd-host.gz" host "$work/user" >&2
    fi
    echo "linux-image-$kver $version" > "$work/out/package"
    rm -rf "$image"
    mv "$work/out" "$image"
    find "$cache/images" -mindepth 1 -maxdepth 1 -name "linux-image-7*" ! -path "$image" -mmin +1440 -exec rm -rf {} +
    echo "IMAGE $label linux-image-$kver $version $image/vmlinuz $image/initrd.gz"
    [ -z "$host" ] || echo "IMAGE $label-host linux-image-$kver $version $image/vmlinuz $image/initrd-host.gz"
}

build 6.1 linux-image-amd64
build 6.12 linux-image-6.12-amd64 host
build_newest newest host
