#!/usr/bin/python3
"""smtp_server.py PORT CERT KEY MAILBOX [USER:PASSWORD]: a real SMTP server for the tests
(Debian's python3-aiosmtpd), on 127.0.0.1:PORT, STARTTLS required before
MAIL (CERT, KEY: its certificate). Each message it takes is one JSON line
in MAILBOX: {"from", "to" (the envelope), "tls" (whether the session was
encrypted), "data" (the message as sent)}. A recipient whose local part
starts with "refused" is refused for good (550), as a real server refuses
an unknown user. With USER:PASSWORD, a login (AUTH PLAIN or LOGIN, over
TLS only) is required before MAIL, and a wrong one refused (535). Prints "listening" once it listens; stops on SIGTERM.

Runs with Debian's /usr/bin/python3, where the package installs
aiosmtpd."""
import asyncio
import json
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from aiosmtpd.smtp import AuthResult

port, cert, key, mailbox = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
login = sys.argv[5].encode().split(b":", 1) if len(sys.argv) > 5 else None


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = login is not None and [auth_data.login, auth_data.password] == login
    return AuthResult(success=ok, handled=False)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("refused"):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": session.authenticated and bool(login),
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        with open(mailbox, "a") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
extra = dict(authenticator=authenticator, auth_required=True, auth_require_tls=True) if login else {}
controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context,
                        require_starttls=True, **extra)
controller.start()
print("listening", flush=True)
stop = asyncio.Event()
loop = asyncio.new_event_loop()
loop.add_signal_handler(signal.SIGTERM, stop.set)
loop.add_signal_handler(signal.SIGINT, stop.set)
loop.run_until_complete(stop.wait())
controller.stop()
