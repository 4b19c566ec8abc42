#!/usr/bin/env python3
"""Builds the gzip newc initramfs that turns a stock Debian kernel into an nvmet target or an NVMe/TCP host.

Usage: build-initramfs.py ROOT BUSYBOX INIT OUT [PROFILE [USERROOT]]

PROFILE is `target` (the default: nvmet and nvmet-tcp, for init.sh) or `host` (the kernel's initiator nvme-tcp, for
init-host.sh). It picks the modules /init loads.

USERROOT, when given, is a tree of user-space .debs extracted with `dpkg -x` (nvme-cli and the libraries it needs):
its USER_PROGRAMS go into the image with every shared library they need (the ELF DT_NEEDED closure, found under
USERROOT's library directories) and the dynamic loader at /lib64/ld-linux-x86-64.so.2.

ROOT is a kernel .deb extracted with `dpkg -x`; BUSYBOX a static busybox; INIT the /init script.
The .deb ships no modules.dep and kmod is not installed, so module dependencies come from each
module's ELF `.modinfo` section (`depends=`). Compressed modules (.ko.xz, .ko.zst is not used by
Debian 12) are stored decompressed because busybox insmod loads plain ELF only. The cpio is written
here, so /dev/console (a character device the kernel needs as init's stdio before devtmpfs is
mounted) exists without root or mknod.
"""

import gzip
import io
import lzma
import os
import struct
import sys

# NVMe/TCP over TLS (7.x, NVME_TARGET_TCP_TLS / NVME_TCP_TLS): the kernel's TLS record layer ("tcp-ulp-tls") and the
# AEAD ciphers tlshd negotiates. Optional: older kernels load them too, and the CPU drivers need AES-NI/PCLMUL.
TLS_MODULES = ["tls", "gcm", "ctr", "ghash_generic", "aesni_intel", "ghash_clmulni_intel", "chacha20poly1305"]

# What /init loads per profile, in this order after their dependencies; a module built into the kernel
# (absent from the .deb) is skipped. virtio_net and virtio_blk do not depend on virtio_pci, so it is listed. The
# crc32c drivers back the header and data digests (the crypto API's "crc32c", loaded by no depends=; in 7.x the
# generic one is crc32c_cryptoapi). nvmet of 7.x depends on nvme_auth and nvme_keyring, found through depends=.
PROFILES = {
    "target": [
        "configfs",
        "virtio_pci",
        "virtio_net",
        "virtio_blk",
        "brd",
        "crc32c_generic",
        "crc32c_intel",
        "crc32c_cryptoapi",
        "nvmet",
        "nvmet_tcp",
    ]
    + TLS_MODULES,
    "host": [
        "virtio_pci",
        "virtio_net",
        "crc32c_generic",
        "crc32c_intel",
        "nvme_tcp",
    ]
    + TLS_MODULES,
}

# Filesystem for init-host.sh's discard steps (mke2fs, mount, fstrim on a namespace of our target): Debian has no
# ext2 driver of its own, its ext4 module mounts ext2. Added to the host profile's modules, after them.
HOST_FILESYSTEM_MODULES = ["ext4"]

# Optional: loaded when present, a failed insmod is not fatal (crc32c_intel needs SSE 4.2).
OPTIONAL = {"crc32c_intel"} | set(TLS_MODULES)

# Module parameters per profile. host: nvme_core's admin and I/O command timeouts (default 60 s and 30 s)
# lowered, so that a target that does not answer fails a step within seconds.
PARAMETERS = {
    "target": {"brd": "rd_nr=1 rd_size=65536"},
    "host": {"nvme_core": "admin_timeout=15 io_timeout=15"},
}


# Programs taken from USERROOT, as (path in USERROOT, path in the image).
USER_PROGRAMS = [("usr/sbin/nvme", "usr/sbin/nvme"), ("usr/sbin/tlshd", "usr/sbin/tlshd"), ("usr/bin/keyctl", "usr/bin/keyctl")]
LIBRARY_DIRECTORIES = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib64", "lib64"]
LOADER = "ld-linux-x86-64.so.2"


def needed_libraries(elf):
    """The DT_NEEDED names of an ELF64 little-endian executable or shared library."""
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []

    def file_offset(vaddr):
        for start, offset, size in loads:
            if start <= vaddr < start + size:
                return offset + vaddr - start
        raise ValueError(f"address {vaddr:#x} is in no PT_LOAD segment")

    entries, strtab = [], None
    for at in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, value = struct.unpack_from("<qQ", elf, at)
        if tag == 0:
            break
        if tag == 1:
            entries.append(value)
        elif tag == 5:
            strtab = file_offset(value)
    if strtab is None:
        return []
    return [elf[strtab + e : elf.index(b"\0", strtab + e)].decode() for e in entries]


def user_space(user_root):
    """(path in the image, bytes, mode) of USER_PROGRAMS, their libraries and the loader."""
    files, pending, seen = [], [], set()
    for source, target in USER_PROGRAMS:
        with open(os.path.join(user_root, source), "rb") as f:
            data = f.read()
        files.append((target, data, 0o755))
        pending.extend(needed_libraries(data))
    pending.append(LOADER)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for directory in LIBRARY_DIRECTORIES:
            path = os.path.join(user_root, directory, name)
            if os.path.exists(path):
                with open(os.path.realpath(path), "rb") as f:
                    data = f.read()
                break
        else:
            raise SystemExit(f"{name} is needed but in none of {LIBRARY_DIRECTORIES} under {user_root}")
        target = "lib64/" + name if name == LOADER else "lib/x86_64-linux-gnu/" + name
        files.append((target, data, 0o755))
        pending.extend(needed_libraries(data))
    return files


def normalize(name):
    return name.replace("-", "_")


def module_name(path):
    base = os.path.basename(path)
    for suffix in (".ko.xz", ".ko"):
        if base.endswith(suffix):
            return normalize(base[: -len(suffix)])
    return None


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".xz") else data


def modinfo(elf):
    """Returns the key=value pairs of the ELF64 little-endian .modinfo section."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not an ELF64 little-endian module")
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(index):
        base = shoff + index * shentsize
        name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", elf, base)
        return name, offset, size

    _, names_offset, _ = section(shstrndx)
    for index in range(shnum):
        name, offset, size = section(index)
        end = elf.index(b"\0", names_offset + name)
        if elf[names_offset + name : end] == b".modinfo":
            pairs = {}
            for entry in elf[offset : offset + size].split(b"\0"):
                key, sep, value = entry.partition(b"=")
                if sep:
                    pairs.setdefault(key.decode(), value.decode())
            return pairs
    return {}


def find_modules_dir(root):
    for base in ("lib/modules", "usr/lib/modules"):
        path = os.path.join(root, base)
        if os.path.isdir(path):
            versions = sorted(os.listdir(path))
            if len(versions) == 1:
                return os.path.join(path, versions[0]), versions[0]
    raise SystemExit(f"no single lib/modules/<version> under {root}")


def index_modules(modules_dir):
    found = {}
    for directory, _, files in os.walk(os.path.join(modules_dir, "kernel")):
        for file in files:
            name = module_name(file)
            if name:
                found[name] = os.path.join(directory, file)
    return found


def resolve(available, wanted):
    """Dependency-first order of the wanted modules and everything they depend on."""
    order, contents, visiting = [], {}, set()

    def visit(name, chain):
        if name in contents:
            return
        if name in visiting:
            raise SystemExit(f"module dependency cycle: {' -> '.join(chain + [name])}")
        if name not in available:
            if chain:
                raise SystemExit(f"{chain[-1]} depends on {name}, which is not in the package")
            return  # built in
        visiting.add(name)
        elf = read_module(available[name])
        for dependency in filter(None, modinfo(elf).get("depends", "").split(",")):
            visit(normalize(dependency), chain + [name])
        visiting.discard(name)
        contents[name] = elf
        order.append(name)

    for name in wanted:
        visit(name, [])
    return order, contents


class Cpio:
    """A newc (SVR4, no CRC) archive writer."""

    def __init__(self):
        self.out = io.BytesIO()
        self.inode = 1

    def _entry(self, name, mode, data=b"", rdevmajor=0, rdevminor=0):
        fields = [self.inode, mode, 0, 0, 1, 0, len(data), 0, 0, rdevmajor, rdevminor, len(name) + 1, 0]
        self.inode += 1
        self.out.write(b"070701" + b"".join(b"%08X" % value for value in fields))
        self.out.write(name.encode() + b"\0")
        self._pad()
        self.out.write(data)
        self._pad()

    def _pad(self):
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def directory(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def char_device(self, name, major, minor):
        self._entry(name, 0o020600, b"", major, minor)

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def is_static(elf):
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return all(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] != 3 for i in range(phnum))  # PT_INTERP


def main(argv):
    if len(argv) not in (5, 6, 7):
        raise SystemExit(__doc__)
    root, busybox_path, init_path, out = argv[1:5]
    profile = argv[5] if len(argv) >= 6 else "target"
    user_root = argv[6] if len(argv) == 7 else None
    if profile not in PROFILES:
        raise SystemExit(f"unknown profile {profile}; known: {', '.join(PROFILES)}")
    modules_dir, version = find_modules_dir(root)
    wanted = PROFILES[profile] + (HOST_FILESYSTEM_MODULES if profile == "host" else [])
    order, contents = resolve(index_modules(modules_dir), wanted)

    with open(busybox_path, "rb") as f:
        busybox = f.read()
    if not is_static(busybox):
        raise SystemExit(f"{busybox_path} is dynamically linked; install busybox-static")
    with open(init_path, "rb") as f:
        init = f.read()

    cpio = Cpio()
    for name in ("bin", "dev", "etc", "proc", "sys", "tmp", "srv", "mnt", "modules"):
        cpio.directory(name)
    cpio.char_device("dev/console", 5, 1)
    cpio.file("bin/busybox", busybox, 0o755)
    cpio.symlink("bin/sh", "busybox")
    cpio.file("init", init, 0o755)
    lines = []
    for name in order:
        cpio.file(f"modules/{name}.ko", contents[name])
        flag = "optional" if name in OPTIONAL else "required"
        lines.append(f"{name} {flag} {PARAMETERS[profile].get(name, '')}".rstrip())
    cpio.file("etc/modules.order", ("\n".join(lines) + "\n").encode())
    cpio.file("etc/kernel-version", (version + "\n").encode())
    if user_root is not None:
        made = set()
        for target, data, mode in user_space(user_root):
            parts = target.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth])
                if directory not in made and directory not in ("bin", "etc", "tmp"):
                    cpio.directory(directory)
                    made.add(directory)
            cpio.file(target, data, mode)

    with open(out + ".tmp", "wb") as f:
        f.write(gzip.compress(cpio.finish(), compresslevel=6, mtime=0))
    os.replace(out + ".tmp", out)
    print(f"{version} ({profile}): {' '.join(order)}")


if __name__ == "__main__":
    main(sys.argv)
