#!/usr/bin/env python3
"""Writes the data of every Identify and Get Log Page command of one NVMe/TCP admin connection
in a capture to OUTDIR/<identify-cnsN|log-LID>-nsid<NSID>-cid<CID>.bin.

usage: extract.py CAPTURE STREAM OUTDIR
CAPTURE is a path, or the name of a file in captures/ beside this script (the two Linux captures the
test data were cut from, e.g. `extract.py linux-6.1-initiator.pcap 1 OUTDIR`).
STREAM is tshark's tcp.stream index of the admin connection to port 4420. The byte streams come
from `tshark -z follow,tcp,raw`, so TCP segmentation does not matter. C2HData is cut at PDO for
DATAL bytes, which skips a header digest and padding before the data and a data digest after it."""
import os
import struct
import subprocess
import sys


def follow(capture, stream):
    out = subprocess.run(["tshark", "-r", capture, "-q", "-z", f"follow,tcp,raw,{stream}"],
                         capture_output=True, text=True, check=True).stdout
    host, ctrl = bytearray(), bytearray()
    for line in out.splitlines()[6:]:
        if line.startswith("="):
            break
        (ctrl if line.startswith("\t") else host).extend(bytes.fromhex(line.strip()))
    return bytes(host), bytes(ctrl)


def pdus(data):
    off = 0
    while off + 8 <= len(data):
        ptype, flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", data, off)
        yield ptype, flags, hlen, pdo, data[off:off + plen]
        off += plen


def main():
    capture, stream, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    if not os.path.exists(capture):
        capture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "captures", capture)
    host, ctrl = follow(capture, stream)
    cmds = {}
    for ptype, flags, hlen, pdo, pdu in pdus(host):
        if ptype == 4:
            sqe = pdu[8:72]
            opc, cid, nsid = sqe[0], struct.unpack_from("<H", sqe, 2)[0], struct.unpack_from("<I", sqe, 4)[0]
            cdw10 = struct.unpack_from("<I", sqe, 40)[0]
            cmds.setdefault(cid, []).append((opc, nsid, cdw10))
    data = {}
    for ptype, flags, hlen, pdo, pdu in pdus(ctrl):
        if ptype == 7:
            cccid, datao, datal = struct.unpack_from("<HxxII", pdu, 8)
            data.setdefault(cccid, bytearray()).extend(pdu[pdo:pdo + datal])
    for cid, lst in cmds.items():
        for opc, nsid, cdw10 in lst:
            if cid in data and opc in (0x02, 0x06):
                kind = f"identify-cns{cdw10 & 0xFF}" if opc == 6 else f"log-{cdw10 & 0xFF:02x}"
                name = f"{outdir}/{kind}-nsid{nsid:x}-cid{cid:04x}.bin"
                with open(name, "wb") as f:
                    f.write(data[cid])
                print(name, len(data[cid]))


if __name__ == "__main__":
    main()
