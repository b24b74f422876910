#!/usr/bin/env python3
"""hostile_agent.py: an SNMP agent that plays a printer with broken firmware.

    hostile_agent.py --behaviour NAME ADDRESS:PORT [--other ADDRESS] [--late-ms N]
    hostile_agent.py --list

Serves one address and port (UDP), SNMPv1 and v2c, community "public", with
its own BER (standard library only: nothing in the way between the bytes we
choose and the collector). The printer is plausible: the system group,
ifPhysAddress, the hrDevice and hrPrinter rows, prtGeneral, covers, input
trays, the marker's life count, supplies and colorants, alerts, and HP's
private page counters: what snmp/odc_read.c asks for each of the five loops.

It shows ONE hostile behaviour, chosen with --behaviour; --list prints them
with what each does. Each is a small function (b_NAME) that changes the MIB
or sets one of the agent's hooks (next row, varbinds, message, bytes, send):
the ways printers seen in the field break their agents. tests/test_hostile.sh
runs "opendca poll" and a collector against each.

Prints "ready ADDRESS:PORT BEHAVIOUR" on stdout once it serves; counts what it
answered on SIGUSR1 (stderr); stops on SIGTERM/SIGINT.
"""
import argparse
import bisect
import heapq
import os
import select
import signal
import socket
import sys
import time

# ---------------------------------------------------------------------------
# BER

INTEGER, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
IPADDRESS, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x46
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
GET, GETNEXT, RESPONSE, SET, GETBULK = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5
NO_ERROR, TOO_BIG, NO_SUCH_NAME, GEN_ERR = 0, 1, 2, 5


def ber_length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + ber_length(len(content)) + content


def int_content(v):
    """Two's complement, minimal."""
    n = 1
    while not -(1 << (8 * n - 1)) <= v < (1 << (8 * n - 1)):
        n += 1
    return v.to_bytes(n, "big", signed=True)


def uint_content(v):
    """Unsigned (Counter32, Gauge32, TimeTicks, Counter64): a leading 0 when
    the high bit is set."""
    body = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    return b"\x00" + body if body[0] & 0x80 else body


def oid_content(o):
    o = list(o)
    out = bytearray()
    first = [o[0] * 40 + o[1]] + o[2:] if len(o) >= 2 else [0]
    for sub in first:
        chunk = [sub & 0x7F]
        sub >>= 7
        while sub:
            chunk.append(0x80 | (sub & 0x7F))
            sub >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def parse_tlv(data, pos):
    """(tag, content start, content end); raises ValueError on bad BER."""
    if pos + 2 > len(data):
        raise ValueError("short")
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > len(data):
            raise ValueError("length")
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError("past the end")
    return tag, pos, pos + n


def parse_oid(b):
    if not b:
        return ()
    subs, cur = [], 0
    for c in b:
        cur = (cur << 7) | (c & 0x7F)
        if not c & 0x80:
            subs.append(cur)
            cur = 0
    first = subs[0]
    a = min(first // 40, 2)
    return tuple([a, first - 40 * a] + subs[1:])


def parse_int(b):
    return int.from_bytes(b, "big", signed=True) if b else 0


# Values: (tag, content bytes).
def Int(v): return (INTEGER, int_content(v))
def Str(s): return (OCTET_STRING, s if isinstance(s, bytes) else s.encode())
def Oid(s): return (OID, oid_content(dotted(s)))
def C32(v): return (COUNTER32, uint_content(v))
def G32(v): return (GAUGE32, uint_content(v))
def TT(v): return (TIMETICKS, uint_content(v))
def C64(v): return (COUNTER64, uint_content(v))
def Ip(s): return (IPADDRESS, bytes(int(x) for x in s.split(".")))


NULLV = (NULL, b"")


def dotted(s):
    return tuple(int(x) for x in s.strip(".").split(".")) if isinstance(s, str) else tuple(s)


# ---------------------------------------------------------------------------
# The printer

SYS = "1.3.6.1.2.1.1"
IF_PHYS = "1.3.6.1.2.1.2.2.1.6"
HR_DEVICE = "1.3.6.1.2.1.25.3.2.1"
HR_PRINTER = "1.3.6.1.2.1.25.3.5.1"
PRT_GENERAL = "1.3.6.1.2.1.43.5.1.1"
PRT_COVER = "1.3.6.1.2.1.43.6.1.1"
PRT_INPUT = "1.3.6.1.2.1.43.8.2.1"
PRT_MARKER = "1.3.6.1.2.1.43.10.2.1"
PRT_SUPPLIES = "1.3.6.1.2.1.43.11.1.1"
PRT_COLORANT = "1.3.6.1.2.1.43.12.1.1"
PRT_ALERT = "1.3.6.1.2.1.43.18.1.1"
HP_COUNTERS = "1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2"


def printer_mib(address):
    """The MIB as a dict OID tuple -> value, and the table columns (the
    prefixes whose rows a loop walks). Serial and MAC follow the address:
    agents side by side are different printers to the registry."""
    q = [int(x) for x in address.split(".")]
    m, columns = {}, set()

    def put(o, v):
        m[dotted(o)] = v

    def row(col, index, v):
        columns.add(dotted(col))
        put("%s.%s" % (col, index), v)

    put(SYS + ".1.0", Str("HP LaserJet Hostile 4000 (tests/hostile_agent.py)"))
    put(SYS + ".2.0", Oid("1.3.6.1.4.1.11.2.3.9.1"))
    put(SYS + ".3.0", TT(123456))
    put(SYS + ".4.0", Str("facilities@example.com"))
    put(SYS + ".5.0", Str("hostile-printer"))
    put(SYS + ".6.0", Str("Room 101"))
    row(IF_PHYS, 1, Str(bytes([0x00, 0x1B, 0x78, q[1], q[2], q[3]])))
    row(HR_DEVICE + ".2", 1, Oid("1.3.6.1.2.1.25.3.1.5"))
    put(HR_DEVICE + ".3.1", Str("HP LaserJet Hostile 4000"))
    put(HR_DEVICE + ".5.1", Int(2))
    put(HR_PRINTER + ".1.1", Int(3))
    put(HR_PRINTER + ".2.1", Str(b"\x00\x00"))
    put(PRT_GENERAL + ".17.1", Str("HOSTILE%03d%03d" % (q[2], q[3])))
    put(PRT_GENERAL + ".18.1", C32(1))
    put(PRT_GENERAL + ".19.1", C32(3))
    row(PRT_COVER + ".2.1", 1, Str("Front cover"))
    row(PRT_COVER + ".3.1", 1, Int(4))
    for t, name in ((1, "Tray 1"), (2, "Tray 2")):
        for col, v in ((2, Int(4)), (4, Int(116930)), (5, Int(82677)), (8, Int(8)), (9, Int(250)),
                       (10, Int(120 * t)), (11, Int(0)), (12, Str("A4")), (13, Str(name)),
                       (18, Str(name + " (cassette)"))):
            row("%s.%d.1" % (PRT_INPUT, col), t, v)
    row(PRT_MARKER + ".3.1", 1, Int(7))
    row(PRT_MARKER + ".4.1", 1, C32(123456))
    for s, colour in enumerate(("black", "cyan", "magenta", "yellow"), 1):
        for col, v in ((3, Int(s)), (4, Int(3)), (5, Int(21)),
                       (6, Str("HP 12A %s cartridge" % colour)), (7, Int(7)), (8, Int(10000)),
                       (9, Int(4500 - 1000 * s))):
            row("%s.%d.1" % (PRT_SUPPLIES, col), s, v)
        row(PRT_COLORANT + ".4.1", s, Str(colour))
    for a, (sev, code, text) in enumerate(((4, 1104, "Black toner low"), (3, 8, "Paper jam")), 1):
        for col, v in ((2, Int(sev)), (3, Int(4)), (4, Int(11)), (5, Int(1)), (6, Int(0)),
                       (7, Int(code)), (8, Str(text)), (9, TT(1000 * a))):
            row("%s.%d.1" % (PRT_ALERT, col), a, v)
    put(HP_COUNTERS + ".5.0", C32(123456))
    put(HP_COUNTERS + ".6.0", C32(100000))
    put(HP_COUNTERS + ".7.0", C32(23456))
    return m, columns


# ---------------------------------------------------------------------------
# The agent


class Request:
    pass


class Agent:
    MAX_REPLY = 65000  # what one UDP datagram carries here; bigger replies are cut

    def __init__(self, address, port, other, late_ms):
        self.address, self.port, self.other, self.late_ms = address, port, other, late_ms
        self.mib, self.columns = printer_mib(address)
        self.sorted = None
        self.next_fn = self.next_plain  # (oid) -> (oid, value) or None
        self.varbinds_fn = None  # (req, errstat, errindex, varbinds) -> same
        self.message_fn = self.message_plain  # (req, errstat, errindex, varbinds) -> bytes
        self.bytes_fn = None  # (bytes) -> bytes
        self.send_fn = self.send_plain  # (bytes, peer)
        self.answered = 0
        self.timers = []  # (when, seq, bytes, peer, sock)
        self.seq = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        self.sock.bind((address, port))
        self.side = None  # the socket replies come from when they come from elsewhere

    # --- the MIB

    def keys(self):
        if self.sorted is None:
            self.sorted = sorted(self.mib)
        return self.sorted

    def get(self, o):
        return self.mib.get(o)

    def next_plain(self, o):
        keys = self.keys()
        i = bisect.bisect_right(keys, o)
        return (keys[i], self.mib[keys[i]]) if i < len(keys) else None

    def column_of(self, o):
        """The table column (prefix) o is under, or None."""
        for n in range(len(o) - 1, 0, -1):
            if o[:n] in self.columns:
                return o[:n]
        return None

    def rows_of(self, col):
        keys = self.keys()
        i = bisect.bisect_right(keys, col)
        out = []
        while i < len(keys) and keys[i][:len(col)] == col:
            out.append(keys[i])
            i += 1
        return out

    # --- requests

    def parse(self, data):
        r = Request()
        tag, s, e = parse_tlv(data, 0)
        if tag != SEQUENCE:
            raise ValueError("not a sequence")
        tag, a, b = parse_tlv(data, s)
        r.version = parse_int(data[a:b])
        tag, a, b = parse_tlv(data, b)
        r.community = data[a:b]
        r.pdu, ps, pe = parse_tlv(data, b)
        tag, a, b = parse_tlv(data, ps)
        r.reqid = parse_int(data[a:b])
        tag, a, b = parse_tlv(data, b)
        r.x = parse_int(data[a:b])
        tag, a, b = parse_tlv(data, b)
        r.y = parse_int(data[a:b])
        tag, vs, ve = parse_tlv(data, b)
        r.oids = []
        pos = vs
        while pos < ve:
            tag, a, b = parse_tlv(data, pos)
            t2, oa, ob = parse_tlv(data, a)
            r.oids.append(parse_oid(data[oa:ob]))
            pos = b
        return r

    def answer(self, r):
        """errstat, errindex, [(oid, value)] as a sound agent answers."""
        v1 = r.version == 0
        out = []
        if r.pdu == GET:
            for i, o in enumerate(r.oids):
                v = self.get(o)
                if v is None:
                    if v1:
                        return NO_SUCH_NAME, i + 1, [(x, NULLV) for x in r.oids]
                    v = (NO_SUCH_INSTANCE, b"")
                out.append((o, v))
            return NO_ERROR, 0, out
        if r.pdu == GETNEXT:
            for i, o in enumerate(r.oids):
                nv = self.next_fn(o)
                if nv is None:
                    if v1:
                        return NO_SUCH_NAME, i + 1, [(x, NULLV) for x in r.oids]
                    nv = (o, (END_OF_MIB_VIEW, b""))
                out.append(nv)
            return NO_ERROR, 0, out
        if r.pdu == GETBULK and not v1:
            nonrep = max(0, min(r.x, len(r.oids)))
            reps = max(0, min(r.y, 1000))
            for o in r.oids[:nonrep]:
                out.append(self.next_fn(o) or (o, (END_OF_MIB_VIEW, b"")))
            cur = list(r.oids[nonrep:])
            for _ in range(reps if cur else 0):
                for k, o in enumerate(cur):
                    nv = self.next_fn(o) or (o, (END_OF_MIB_VIEW, b""))
                    out.append(nv)
                    cur[k] = nv[0]
                if all(v[0] == END_OF_MIB_VIEW for _, v in out[-len(cur):]):
                    break
            return NO_ERROR, 0, out
        return GEN_ERR, 0, [(o, NULLV) for o in r.oids]

    # --- replies

    @staticmethod
    def varbind(o, v):
        return tlv(SEQUENCE, tlv(OID, oid_content(o)) + tlv(v[0], v[1]))

    def message_plain(self, r, errstat, errindex, varbinds, version=None, reqid=None,
                      pdu=RESPONSE):
        vbl = tlv(SEQUENCE, b"".join(self.varbind(o, v) for o, v in varbinds))
        body = tlv(INTEGER, int_content(r.reqid if reqid is None else reqid))
        body += tlv(INTEGER, int_content(errstat)) + tlv(INTEGER, int_content(errindex)) + vbl
        head = tlv(INTEGER, int_content(r.version if version is None else version))
        head += tlv(OCTET_STRING, r.community)
        return tlv(SEQUENCE, head + tlv(pdu, body))

    def reply(self, r):
        errstat, errindex, vbs = self.answer(r)
        if self.varbinds_fn:
            errstat, errindex, vbs = self.varbinds_fn(r, errstat, errindex, vbs)
        data = self.message_fn(r, errstat, errindex, vbs)
        # Too big for a datagram: a GETBULK is cut (at least one varbind
        # kept), anything else answered tooBig, as agents do.
        while len(data) > self.MAX_REPLY and r.pdu == GETBULK and len(vbs) > max(r.x, 1):
            vbs = vbs[:max(max(r.x, 1), len(vbs) * 3 // 4)]
            data = self.message_fn(r, errstat, errindex, vbs)
        if len(data) > self.MAX_REPLY:
            data = self.message_fn(r, TOO_BIG, 0, [])
        return self.bytes_fn(data) if self.bytes_fn else data

    def send_plain(self, data, peer):
        self.sock.sendto(data, peer)

    def later(self, delay_s, data, peer, sock=None):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay_s, self.seq, data, peer,
                                     sock or self.sock))

    def side_socket(self, address, port):
        if self.side is None:
            self.side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.side.bind((address, port))
            except OSError:
                self.side.bind((address, 0))
        return self.side

    # --- the loop

    def serve(self):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        signal.signal(signal.SIGUSR1, lambda *_: print("answered %d" % self.answered,
                                                        file=sys.stderr, flush=True))
        print("ready %s:%d %s" % (self.address, self.port, self.behaviour), flush=True)
        while not stop:
            wait = 1.0
            if self.timers:
                wait = max(0.0, min(wait, self.timers[0][0] - time.monotonic()))
            try:
                ready, _, _ = select.select([self.sock], [], [], wait)
            except InterruptedError:
                continue
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, data, peer, sock = heapq.heappop(self.timers)
                try:
                    sock.sendto(data, peer)
                except OSError:
                    pass
            if not ready:
                continue
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                continue
            try:
                r = self.parse(data)
            except (ValueError, IndexError):
                continue
            if r.community != b"public" or r.version not in (0, 1):
                continue
            try:
                self.send_fn(self.reply(r), peer)
                self.answered += 1
            except OSError:
                pass


# ---------------------------------------------------------------------------
# Behaviours: b_NAME (agent). The name on the command line has dashes.

BEHAVIOURS = {}


def behaviour(fn):
    BEHAVIOURS[fn.__name__[2:].replace("_", "-")] = fn
    return fn


@behaviour
def b_none(a):
    """a sound printer (the control: every loop reads it)"""


@behaviour
def b_endless_walk(a):
    """every table column goes on for ever: ever-increasing row indexes"""
    def nxt(o):
        col = a.column_of(o)
        if col is None or len(o) <= len(col):
            return a.next_plain(o)
        rows = a.rows_of(col)
        return col + (o[len(col)] + 1,), a.mib[rows[0]]
    a.next_fn = nxt


@behaviour
def b_looping_walk(a):
    """after its last row a column starts again at its first (OIDs go back)"""
    def nxt(o):
        n = a.next_plain(o)
        col = a.column_of(o)
        if col is not None and len(o) > len(col) and (n is None or n[0][:len(col)] != col):
            first = a.rows_of(col)[0]
            return first, a.mib[first]
        return n
    a.next_fn = nxt


@behaviour
def b_stuck_walk(a):
    """at its last row a column answers the same OID again and again"""
    def nxt(o):
        n = a.next_plain(o)
        col = a.column_of(o)
        if col is not None and o in a.mib and (n is None or n[0][:len(col)] != col):
            return o, a.mib[o]
        return n
    a.next_fn = nxt


def s_long_rows(a, length):
    """40 last rows in every column with OIDs of `length` sub-identifiers
    that differ only in the last one (a table indexed by a long string): an
    engine that keeps fewer sub-identifiers asks again from the same cut
    OID and gets the same rows again, for ever."""
    for col in list(a.columns):
        rows = a.rows_of(col)
        last = rows[-1][len(col)]
        stem = col + (last + 1,) + (7,) * (length - len(col) - 2)
        for n in range(1, 41):
            a.mib[stem + (n,)] = a.mib[rows[0]]
    a.mib[dotted(SYS + ".2.0")] = (OID, oid_content((1, 3, 6, 1, 4, 1, 11) + (2,) * (length - 7)))
    a.sorted = None


@behaviour
def b_long_oid_65(a):
    """40 last rows in every column with OIDs of 66 sub-identifiers (and a 66 long sysObjectID)"""
    s_long_rows(a, 66)


@behaviour
def b_long_oid_129(a):
    """40 last rows in every column with OIDs of 130 sub-identifiers (past net-snmp's 128)"""
    s_long_rows(a, 130)


@behaviour
def b_many_rows(a):
    """5,000 alerts, 2,000 supplies and 2,000 trays (finite, but far past any sane table)"""
    for col in range(2, 10):
        first = a.mib[dotted("%s.%d.1.1" % (PRT_ALERT, col))]
        for n in range(3, 5001):
            a.mib[dotted("%s.%d.1.%d" % (PRT_ALERT, col, n))] = first
    for col in range(3, 10):
        first = a.mib[dotted("%s.%d.1.1" % (PRT_SUPPLIES, col))]
        for n in range(5, 2001):
            a.mib[dotted("%s.%d.1.%d" % (PRT_SUPPLIES, col, n))] = first
    for col in (2, 4, 5, 8, 9, 10, 11, 12, 13, 18):
        first = a.mib[dotted("%s.%d.1.1" % (PRT_INPUT, col))]
        for n in range(3, 2001):
            a.mib[dotted("%s.%d.1.%d" % (PRT_INPUT, col, n))] = first
    a.sorted = None


HUGE = ("HP LaserJet " + "0123456789abcdefghijklmnopqrstuvwxyz" * 1700)[:60000]


@behaviour
def b_huge_strings(a):
    """60 kB OCTET STRINGs: sysDescr, an alert's, a supply's and a tray's description, a colorant"""
    for o in (SYS + ".1.0", PRT_ALERT + ".8.1.1", PRT_SUPPLIES + ".6.1.1",
              PRT_INPUT + ".13.1.1", PRT_INPUT + ".18.1.2", PRT_COLORANT + ".4.1.2",
              PRT_COVER + ".2.1.1"):
        a.mib[dotted(o)] = Str(HUGE)


BAD = (b"HP\x00Laser\x1b[31mJet\r\nwarn  [alert] s_failed: device=10.0.0.1 forged\t"
       b"<b>&amp;</b>]]><!-- \xff\xfe \xc0\xaf \xe0\x80\x80 \xed\xa0\x80 \xf4\x90\x80\x80 "
       b"\xf8\x88\x80\x80\x80 \x7f \x85 \xc2\x9b \xe2\x80\xae end\xc3")


@behaviour
def b_bad_text(a):
    """text with NUL, ESC, CR LF, markup, overlongs, surrogates, > U+10FFFF, C1 controls, cut UTF-8"""
    for o in (SYS + ".1.0", SYS + ".4.0", SYS + ".5.0", SYS + ".6.0", HR_DEVICE + ".3.1",
              PRT_GENERAL + ".17.1", PRT_ALERT + ".8.1.1", PRT_ALERT + ".8.1.2",
              PRT_SUPPLIES + ".6.1.1", PRT_COLORANT + ".4.1.1", PRT_INPUT + ".12.1.1",
              PRT_INPUT + ".13.1.1", PRT_INPUT + ".18.1.2", PRT_COVER + ".2.1.1"):
        a.mib[dotted(o)] = Str(BAD)
    a.mib[dotted(PRT_GENERAL + ".17.1")] = Str(b"\x01\x15" + BAD)  # after HP's 01 15


@behaviour
def b_wrong_types(a):
    """strings where counters are, Counter64 where INTEGERs are, OIDs, IpAddress, NULL"""
    t = {SYS + ".1.0": Int(7), SYS + ".2.0": Str("1.3.6.1.4.1.11"), SYS + ".3.0": Str("up"),
         IF_PHYS + ".1": Oid("1.3.6"), HR_DEVICE + ".2.1": Int(5),
         HR_DEVICE + ".3.1": Oid("1.3.6.1"), HR_DEVICE + ".5.1": C64(2),
         HR_PRINTER + ".1.1": C64(1 << 40), HR_PRINTER + ".2.1": Int(255),
         PRT_GENERAL + ".17.1": C32(12345), PRT_GENERAL + ".18.1": Str("1"),
         PRT_GENERAL + ".19.1": C64(1 << 33), PRT_MARKER + ".4.1.1": Str("123456"),
         PRT_MARKER + ".3.1.1": Str("impressions"), PRT_SUPPLIES + ".9.1.1": C64(5 << 32),
         PRT_SUPPLIES + ".8.1.1": Str("10000"), PRT_SUPPLIES + ".3.1.2": Oid("1.3"),
         PRT_SUPPLIES + ".6.1.2": Int(9), PRT_COLORANT + ".4.1.3": C32(3),
         PRT_INPUT + ".9.1.1": Ip("10.0.0.1"), PRT_INPUT + ".10.1.1": NULLV,
         PRT_INPUT + ".13.1.2": G32(4), PRT_ALERT + ".7.1.1": Str("jam"),
         PRT_ALERT + ".9.1.1": C64(1 << 50), PRT_ALERT + ".8.1.2": Int(-1),
         PRT_COVER + ".3.1.1": Str("closed"), HP_COUNTERS + ".5.0": Str("many")}
    for o, v in t.items():
        a.mib[dotted(o)] = v


@behaviour
def b_negative_numbers(a):
    """negative counters, event counts, levels, capacities, status and uptime"""
    t = {SYS + ".3.0": (TIMETICKS, b"\xff\xff\xff\x00"), HR_DEVICE + ".5.1": Int(-3),
         PRT_GENERAL + ".18.1": Int(-7), PRT_GENERAL + ".19.1": (COUNTER32, b"\xff\xff\xff\xff"),
         PRT_MARKER + ".4.1.1": (COUNTER32, b"\xff\xff\xff\xfb"),
         PRT_SUPPLIES + ".9.1.1": Int(-50), PRT_SUPPLIES + ".8.1.1": Int(-1000),
         PRT_SUPPLIES + ".9.1.2": Int(-2147483648), PRT_SUPPLIES + ".3.1.3": Int(-1),
         PRT_INPUT + ".10.1.1": Int(-7), PRT_INPUT + ".9.1.1": Int(-20),
         PRT_ALERT + ".2.1.1": Int(-4), PRT_ALERT + ".7.1.1": Int(-8),
         PRT_ALERT + ".9.1.1": (TIMETICKS, b"\x80\x00\x00\x00"),
         HP_COUNTERS + ".5.0": Int(-100), HP_COUNTERS + ".6.0": (COUNTER64, b"\xff" * 8)}
    for o, v in t.items():
        a.mib[dotted(o)] = v


@behaviour
def b_wrong_request_id(a):
    """answers carry another request id than the request's"""
    plain = a.message_fn
    a.message_fn = lambda r, e, i, v: plain(r, e, i, v, reqid=(r.reqid + 1) & 0x7FFFFFFF)


@behaviour
def b_other_address(a):
    """answers come from another address (--other), from the same port"""
    def send(data, peer):
        a.side_socket(a.other, a.port).sendto(data, peer)
    a.send_fn = send


@behaviour
def b_other_port(a):
    """answers come from the right address but another port"""
    def send(data, peer):
        a.side_socket(a.address, 0).sendto(data, peer)
    a.send_fn = send


@behaviour
def b_truncated_ber(a):
    """answers cut in the middle of their BER"""
    a.bytes_fn = lambda d: d[:max(8, len(d) // 2)]


def s_outer(d):
    """The message's content (after the outer SEQUENCE's tag and length)."""
    _, s, _ = parse_tlv(d, 0)
    return d[s:]


@behaviour
def b_ber_length_past_end(a):
    """the message's length says 200 bytes more than there are"""
    a.bytes_fn = lambda d: bytes([SEQUENCE]) + ber_length(len(s_outer(d)) + 200) + s_outer(d)


@behaviour
def b_ber_indefinite_length(a):
    """the message in BER's indefinite length form (0x80 ... 00 00), not allowed in SNMP"""
    a.bytes_fn = lambda d: bytes([SEQUENCE, 0x80]) + s_outer(d) + b"\x00\x00"


@behaviour
def b_ber_9_byte_length(a):
    """the message's length written in 9 bytes (0x89 ...)"""
    a.bytes_fn = lambda d: bytes([SEQUENCE, 0x89]) + len(s_outer(d)).to_bytes(9, "big") + s_outer(d)


@behaviour
def b_ber_inner_length(a):
    """the last varbind's value says it is 1,000 bytes longer than it is (lengths around it right)"""
    def lie(r, e, i, v):
        body = b"".join(a.varbind(o, x) for o, x in v[:-1])
        if v:
            o, (tag, content) = v[-1]
            value = bytes([tag]) + ber_length(len(content) + 1000) + content
            body += tlv(SEQUENCE, tlv(OID, oid_content(o)) + value)
        pdu = tlv(INTEGER, int_content(r.reqid)) + tlv(INTEGER, int_content(e))
        pdu += tlv(INTEGER, int_content(i)) + tlv(SEQUENCE, body)
        head = tlv(INTEGER, int_content(r.version)) + tlv(OCTET_STRING, r.community)
        return tlv(SEQUENCE, head + tlv(RESPONSE, pdu))
    a.message_fn = lie


@behaviour
def b_oversized_integer(a):
    """hrDeviceStatus and the page counter as 9-byte INTEGERs"""
    a.mib[dotted(HR_DEVICE + ".5.1")] = (INTEGER, b"\x00" * 8 + b"\x02")
    a.mib[dotted(PRT_MARKER + ".4.1.1")] = (COUNTER32, b"\x00" * 8 + b"\x05")
    a.mib[dotted(PRT_SUPPLIES + ".9.1.1")] = (INTEGER, b"\x01" * 9)


@behaviour
def b_gen_err(a):
    """genErr to every request"""
    a.varbinds_fn = lambda r, e, i, v: (GEN_ERR, 1, [(o, NULLV) for o in r.oids])


@behaviour
def b_no_such_name_wrong_index(a):
    """noSuchName at an index past the varbinds asked"""
    a.varbinds_fn = lambda r, e, i, v: (NO_SUCH_NAME, len(r.oids) + 5, [(o, NULLV) for o in r.oids])


@behaviour
def b_too_big(a):
    """tooBig to every request, however small"""
    a.varbinds_fn = lambda r, e, i, v: (TOO_BIG, 0, [])


@behaviour
def b_late_answer(a):
    """every answer comes --late-ms (3,500) after the request: after the timeouts"""
    a.send_fn = lambda data, peer: a.later(a.late_ms / 1000.0, data, peer)


@behaviour
def b_slow_answer(a):
    """every answer 800 ms after its request: a busy printer, just inside a 1 s timeout"""
    a.send_fn = lambda data, peer: a.later(0.8, data, peer)


@behaviour
def b_intermittent(a):
    """every second request goes unanswered (a printer dropping half its packets)"""
    seen = [0]

    def send(data, peer):
        seen[0] += 1
        if seen[0] % 2:
            a.sock.sendto(data, peer)
    a.send_fn = send


@behaviour
def b_partial_answer(a):
    """half the varbinds asked for (the first half)"""
    a.varbinds_fn = lambda r, e, i, v: (e, i, v[:max(1, len(v) // 2)] if len(v) > 1 else v)


@behaviour
def b_empty_varbinds(a):
    """answers with no varbind at all, error-status 0"""
    a.varbinds_fn = lambda r, e, i, v: (NO_ERROR, 0, [])


@behaviour
def b_end_of_mib_middle(a):
    """endOfMibView in the middle of an answer, real rows after it"""
    def mid(r, e, i, v):
        if len(v) >= 3:
            k = len(v) // 2
            v = v[:k] + [(v[k][0], (END_OF_MIB_VIEW, b""))] + v[k + 1:]
        return e, i, v
    a.varbinds_fn = mid


@behaviour
def b_shuffled_varbinds(a):
    """the varbinds of an answer in reverse order"""
    a.varbinds_fn = lambda r, e, i, v: (e, i, list(reversed(v)))


@behaviour
def b_flood(a):
    """200 copies of every answer"""
    def send(data, peer):
        for _ in range(200):
            a.sock.sendto(data, peer)
    a.send_fn = send


@behaviour
def b_duplicated(a):
    """every answer twice, the second 50 ms later"""
    def send(data, peer):
        a.sock.sendto(data, peer)
        a.later(0.05, data, peer)
    a.send_fn = send


@behaviour
def b_v2c_answer_to_v1(a):
    """a v1 request answered as v2c (and a v2c one as v1)"""
    plain = a.message_fn
    a.message_fn = lambda r, e, i, v: plain(r, e, i, v, version=1 - r.version)


@behaviour
def b_wrong_pdu_type(a):
    """answers sent as a GetRequest PDU instead of a Response"""
    plain = a.message_fn
    a.message_fn = lambda r, e, i, v: plain(r, e, i, v, pdu=GET)


@behaviour
def b_garbage(a):
    """answers that are not SNMP at all (random bytes)"""
    a.bytes_fn = lambda d: os.urandom(len(d))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("endpoint", nargs="?", help="ADDRESS:PORT to serve")
    p.add_argument("--behaviour", default="none")
    p.add_argument("--list", action="store_true", help="print the behaviours")
    p.add_argument("--other", default=None,
                   help="the address other-address answers from (default: ADDRESS + 1)")
    p.add_argument("--late-ms", type=int, default=3500)
    o = p.parse_args()
    if o.list:
        for name, fn in BEHAVIOURS.items():
            print("%-26s %s" % (name, fn.__doc__))
        return 0
    if o.behaviour not in BEHAVIOURS or not o.endpoint or ":" not in o.endpoint:
        print("hostile_agent.py: need ADDRESS:PORT and a --behaviour from --list", file=sys.stderr)
        return 2
    address, port = o.endpoint.rsplit(":", 1)
    other = o.other
    if other is None:
        q = address.split(".")
        q[3] = str((int(q[3]) + 1) % 256)
        other = ".".join(q)
    a = Agent(address, int(port), other, o.late_ms)
    a.behaviour = o.behaviour
    BEHAVIOURS[o.behaviour](a)
    a.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
