#!/usr/bin/env python3
"""snmp_agent: a tiny SNMP v1/v2c agent with broken firmware, for the engine's
tests (tests/test_snmp.c). BER is coded here by hand (no pysnmp), so that it
can say what no real agent library would let it say.

    snmp_agent.py --address 127.45.0.1 --port N --mode MODE [--delay-ms MS] [--rows N]
                  [--copies N]

prints "ready" on its first line once bound, then answers until killed
(--copies N: every answer N times, a flood).
Modes:
  endless   every GETNEXT/GETBULK varbind gets the next OID of the same column,
            for ever (last sub-identifier + 1); GET gets INTEGER 1; with
            --rows N, each column ends (endOfMibView) after N rows
  longoid   walks answer OIDs of 72 and more sub-identifiers under the column
            asked, each one greater than the last
  spoof     each request is first answered from another address (ADDRESS with
            its last byte + 1, the same port) and from another port (ADDRESS,
            PORT + 1) with OCTET STRING "spoofed", then, 50 ms later, from
            the right address and port with "real"
  reqid     GET answers each varbind with OCTET STRING: the request id, in
            decimal (so the test sees the ids the engine sent)
  negative  GET answers each varbind with INTEGER -1, -2, -3, -1, ... in turn;
            walks: four rows of each column (indexes 1..4): a Counter32 coded
            as a negative number (41 04 ff ff ff fb), then INTEGER -2, -3 and
            -1000, then endOfMibView
  badtext   GET answers the second varbind with an OCTET STRING of bad text
            (overlong, surrogate, past U+10FFFF, C1 controls as UTF-8 and as
            bytes, ESC, DEL, a cut sequence), the third with 60,000 bytes,
            the others with "ok"
  emptyvb   every answer is a response with no varbind at all
  badindex  every answer is noSuchName with an error-index past the varbinds
"""
import argparse
import select
import socket
import sys
import time


def enc_len(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + enc_len(len(body)) + body


def enc_int(v, tag=0x02):
    n = 1
    while not -(1 << (8 * n - 1)) <= v < (1 << (8 * n - 1)):
        n += 1
    return tlv(tag, v.to_bytes(n, "big", signed=True))


def enc_subid(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def enc_oid(o):
    body = enc_subid(o[0] * 40 + o[1]) + b"".join(enc_subid(x) for x in o[2:])
    return tlv(0x06, body)


def dec_tlv(data, i):
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i : i + k], "big")
        i += k
    return tag, data[i : i + n], i + n


def dec_int(body):
    return int.from_bytes(body, "big", signed=True)


def dec_oid(body):
    out, v = [], 0
    for b in body:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            out.append(v)
            v = 0
    first = out[0]
    return [min(first // 40, 2), first - 40 * min(first // 40, 2)] + out[1:]


def parse(data):
    _, msg, _ = dec_tlv(data, 0)
    _, ver, i = dec_tlv(msg, 0)
    _, community, i = dec_tlv(msg, i)
    ptype, pdu, _ = dec_tlv(msg, i)
    _, reqid, j = dec_tlv(pdu, 0)
    _, a, j = dec_tlv(pdu, j)
    _, b, j = dec_tlv(pdu, j)
    _, vbl, _ = dec_tlv(pdu, j)
    oids, k = [], 0
    while k < len(vbl):
        _, vb, k = dec_tlv(vbl, k)
        _, name, _ = dec_tlv(vb, 0)
        oids.append(dec_oid(name))
    return dec_int(ver), community, ptype, dec_int(reqid), dec_int(a), dec_int(b), oids


def response(ver, community, reqid, varbinds, status=0, index=0):
    vbl = b"".join(tlv(0x30, enc_oid(o) + v) for o, v in varbinds)
    pdu = enc_int(reqid) + enc_int(status) + enc_int(index) + tlv(0x30, vbl)
    return tlv(0x30, enc_int(ver) + tlv(0x04, community) + tlv(0xA2, pdu))


NULL = b"\x05\x00"
END = b"\x82\x00"  # endOfMibView


class Agent:
    def __init__(self, mode, rows=0):
        self.mode = mode
        self.rows = rows
        self.count = 0
        self.prefixes = {}  # the column a walk began at, by its OID

    def next_of(self, o):
        """The OID after o in the column o is in (endless, longoid, negative)."""
        o = tuple(o)
        col = next((p for p in self.prefixes if o[: len(p)] == p), None)
        if col is None:
            col = o
            self.prefixes[col] = True
        self.count += 1
        if self.mode == "longoid":
            return list(col) + [1] * 70 + [self.count]
        if len(o) == len(col):
            return list(col) + [1]
        return list(o[:-1]) + [o[-1] + 1]

    def answer(self, ptype, reqid, nonrep, maxrep, oids):
        if ptype == 0xA0:  # GET
            if self.mode == "reqid":
                return [(o, tlv(0x04, str(reqid).encode())) for o in oids]
            if self.mode == "negative":
                return [(o, enc_int(-1 - k % 3)) for k, o in enumerate(oids)]
            if self.mode == "spoof":
                return [(o, tlv(0x04, b"real")) for o in oids]
            if self.mode == "badtext":
                bad = (b"a\xc0\xafb\xe0\x80\x80c\xed\xa0\x80d\xf4\x90\x80\x80e"
                       b"\xc2\x9bf\x85g\x1b[31mh\x7fi\xc3\xa9j\xc3")
                texts = [b"ok", bad, b"x" * 60000]
                return [(o, tlv(0x04, texts[k] if k < 3 else b"ok")) for k, o in enumerate(oids)]
            return [(o, enc_int(1)) for o in oids]
        reps = 1
        if ptype == 0xA5:
            reps = max(1, min(maxrep, 50))
        else:
            nonrep = 0
        out = [(self.next_of(o), enc_int(1)) for o in oids[:nonrep]]
        cur = list(oids[nonrep:])
        for _ in range(reps):
            for k, o in enumerate(cur):
                if self.mode == "negative":
                    col = next((p for p in self.prefixes if tuple(o[: len(p)]) == p), None)
                    if col is None:
                        self.prefixes[tuple(o)] = True
                        col = tuple(o)
                    row = 1 if len(o) == len(col) else o[len(col)] + 1
                    if row > 4:
                        out.append((o, END))
                        continue
                    n = list(col) + [row]
                    value = {1: b"\x41\x04\xff\xff\xff\xfb", 4: enc_int(-1000)}.get(row)
                    out.append((n, value or enc_int(-row)))
                else:
                    n = self.next_of(o)
                    col = next(p for p in self.prefixes if tuple(n[: len(p)]) == p)
                    if self.rows and n[len(col)] > self.rows:
                        out.append((o, END))
                        continue
                    out.append((n, enc_int(1)))
                cur[k] = n
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", required=True,
                    choices=["endless", "longoid", "spoof", "reqid", "negative", "badtext",
                             "emptyvb", "badindex"])
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--copies", type=int, default=1)
    args = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.address, args.port))
    spoofers = []
    if args.mode == "spoof":
        parts = args.address.split(".")
        other = ".".join(parts[:3] + [str(int(parts[3]) + 1)])
        for where in ((other, args.port), (args.address, args.port + 1)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(where)
            spoofers.append(s)
    agent = Agent(args.mode, args.rows)
    print("ready", flush=True)
    later = []  # (due, data, peer)
    while True:
        wait = max(0.0, min(d for d, _, _ in later) - time.time()) if later else None
        ready, _, _ = select.select([sock], [], [], wait)
        if ready:
            data, peer = sock.recvfrom(65535)
            try:
                ver, community, ptype, reqid, a, b, oids = parse(data)
            except (IndexError, ValueError):
                continue
            if args.mode == "emptyvb":
                reply = response(ver, community, reqid, [])
            elif args.mode == "badindex":
                reply = response(ver, community, reqid, [(o, NULL) for o in oids], 2,
                                 len(oids) + 5)
            else:
                reply = response(ver, community, reqid, agent.answer(ptype, reqid, a, b, oids))
            if args.mode == "spoof":
                fake = response(ver, community, reqid,
                                [(o, tlv(0x04, b"spoofed")) for o in oids])
                for s in spoofers:
                    s.sendto(fake, peer)
                later.append((time.time() + 0.05, reply, peer))
            elif args.delay_ms:
                later.append((time.time() + args.delay_ms / 1000.0, reply, peer))
            else:
                for _ in range(max(1, args.copies)):
                    sock.sendto(reply, peer)
        now = time.time()
        for item in [x for x in later if x[0] <= now]:
            later.remove(item)
            sock.sendto(item[1], item[2])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
