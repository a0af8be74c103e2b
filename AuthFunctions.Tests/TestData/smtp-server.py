"""A real SMTP server for the email TLS tests: Debian's python3-aiosmtpd on 127.0.0.1.

usage: smtp-server.py PORT MODE [CERT KEY]
  MODE starttls: offers STARTTLS with CERT/KEY (PEM) and refuses mail before it (aiosmtpd's require_starttls);
                 offers AUTH only after it, and accepts any credentials.
  MODE plain:    never offers STARTTLS, but offers AUTH in the clear (refusing every attempt), as a server a
                 man in the middle stripped would.
Prints one JSON line per thing a client did (ehlo, starttls, auth, mail, rcpt, data, each with whether the
session was encrypted then), and {"event": "ready"} once it listens. Ends when stdin closes (its test is
done, or gone).
"""
import json
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def report(event, session, **fields):
    fields.update(event=event, tls=session.ssl is not None)
    print(json.dumps(fields), flush=True)


class Recorder:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        report("ehlo", session)
        return responses

    def handle_STARTTLS(self, server, session, envelope):  # aiosmtpd calls this hook without awaiting it
        report("starttls", session)
        return True

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        report("mail", session)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        report("rcpt", session)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        report("data", session, to=envelope.rcpt_tos,
               cipher=session.ssl.get("cipher") if session.ssl else None,
               content=envelope.content.decode("utf-8", "replace"))
        return "250 Message accepted for delivery"


def authenticator(accept):
    def authenticate(server, session, envelope, mechanism, auth_data):
        report("auth", session, mechanism=mechanism)
        return AuthResult(success=accept, handled=False)
    return authenticate


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    options = {}
    if mode == "starttls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        options.update(tls_context=context, require_starttls=True, authenticator=authenticator(True), auth_require_tls=True)
    elif mode == "plain":
        options.update(authenticator=authenticator(False), auth_require_tls=False)
    else:
        raise SystemExit(f"unknown mode {mode}")
    controller = Controller(Recorder(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(json.dumps({"event": "ready"}), flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
