#!/usr/bin/env python3
"""Explicit-FTPS (AUTH TLS) server for syncrocardpay's tests, on pyftpdlib's TLS handler
(`pip install pyftpdlib pyopenssl`). TLS is required on the control and the data channel.

  ftps_server.py --home DIR --certdir DIR [--port 0] [--user U --password P] [--self-signed]
                 [--short-first-retr BYTES] [--drop-first-retr BYTES] [--no-mlsd] [--drop-control-first-retr]

Certificates: a throwaway test CA (ca.pem, for the client) and a leaf for localhost/127.0.0.1 signed by it;
with --self-signed, a lone self-signed leaf instead (clients must refuse it). Prints "READY <port>" when
listening; SIGTERM stops it. With --short-first-retr N the first download of each file sends only its first
N bytes and reports success (a server returning fewer bytes than it listed); with --drop-first-retr N it
breaks off the data connection after N bytes instead (a dropped transfer). --no-mlsd answers MLSD with
500, like servers that only know LIST/NLST. --drop-control-first-retr closes the control connection, without a
reply, at the first RETR of each file. --certs-only writes the certificates and exits (for another server:
tests/common/vsftpd.rs).
"""
import argparse
import datetime as dt
import ipaddress
import os
import signal
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def cert(subject, issuer, key, issuer_key, ca):
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=7))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def make_certs(certdir, self_signed):
    os.makedirs(certdir, exist_ok=True)
    pem = serialization.Encoding.PEM
    key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    if self_signed:
        leaf = cert(leaf_name, leaf_name, key, key, ca=False)
        chain = leaf.public_bytes(pem)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncrocardpay test CA")])
        ca = cert(ca_name, ca_name, ca_key, ca_key, ca=True)
        leaf = cert(leaf_name, ca_name, key, ca_key, ca=False)
        chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
        with open(os.path.join(certdir, "ca.pem"), "wb") as f:
            f.write(ca.public_bytes(pem))
    with open(os.path.join(certdir, "server.pem"), "wb") as f:
        f.write(chain)
    with open(os.path.join(certdir, "server.key"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--certdir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", default="edi")
    ap.add_argument("--password", default="edi-password")
    ap.add_argument("--self-signed", action="store_true")
    ap.add_argument("--short-first-retr", type=int, default=0)
    ap.add_argument("--drop-first-retr", type=int, default=0)
    ap.add_argument("--no-mlsd", action="store_true")
    ap.add_argument("--drop-control-first-retr", action="store_true")
    ap.add_argument("--certs-only", action="store_true")
    a = ap.parse_args()
    make_certs(a.certdir, a.self_signed)
    if a.certs_only:
        return
    # The server's own modules: not needed for the certificates alone.
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import TLS_FTPHandler
    from pyftpdlib.servers import FTPServer

    authorizer = DummyAuthorizer()
    authorizer.add_user(a.user, a.password, a.home, perm="elr")
    served = set()

    class Short:
        """A file that ends after `limit` bytes — or, with `fail`, breaks the transfer there."""

        def __init__(self, f, limit, fail=False):
            self._f, self._left, self._fail = f, limit, fail

        def read(self, size=-1):
            if self._left <= 0:
                if self._fail:
                    raise OSError("transfer broken off by the test server")
                return b""
            data = self._f.read(self._left if size < 0 else min(size, self._left))
            self._left -= len(data)
            return data

        def __getattr__(self, name):
            return getattr(self._f, name)

    class FlakyFS(AbstractedFS):
        def open(self, filename, mode):
            f = super().open(filename, mode)
            limit = a.short_first_retr or a.drop_first_retr
            if limit and "r" in mode and filename not in served:
                served.add(filename)
                return Short(f, limit, fail=bool(a.drop_first_retr))
            return f

    dropped = set()

    class Handler(TLS_FTPHandler):
        abstracted_fs = FlakyFS
        if a.no_mlsd:
            proto_cmds = {k: v for k, v in TLS_FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST")}

        def ftp_RETR(self, file):
            if a.drop_control_first_retr and file not in dropped:
                dropped.add(file)
                self.close()  # the control connection goes, without a reply
                return
            return super().ftp_RETR(file)

    Handler.authorizer = authorizer
    Handler.certfile = os.path.join(a.certdir, "server.pem")
    Handler.keyfile = os.path.join(a.certdir, "server.key")
    Handler.tls_control_required = True
    Handler.tls_data_required = True
    Handler.passive_ports = range(61000, 61999)
    Handler.permit_foreign_addresses = False

    server = FTPServer(("127.0.0.1", a.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: (server.close_all(), sys.exit(0)))
    print(f"READY {server.address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
