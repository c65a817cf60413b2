#!/usr/bin/env python3
"""A stand-in for Stone's conciliation API and PagBank's EDI API, over HTTPS, for syncrocardpay's tests.

  api_server.py --home DIR --certdir DIR --stone-key KEY --pagbank-user U --pagbank-token T
                [--page-size N] [--gzip-stone] [--redirect-stone]

Serves, as the acquirers document them (../shared/formats/stone.md §1, pagbank.md §1-2):
- GET /v2/merchant/{StoneCode}/conciliation-file/{yyyyMMdd}: HOME/stone/{StoneCode}-{yyyyMMdd}.xml; HTTP Basic
  with the key as user and an empty password, and `x-user-type: client`, else 401; 404 when there is no file.
  With --gzip-stone the body is gzipped; with --redirect-stone the answer is a 307 to /blob/…, which refuses
  (400) a request that carries an Authorization header, as a pre-signed address would.
- GET /movement/v3.00/{transactional|financial}/{yyyy-MM-dd}?pageNumber=N&pageSize=S:
  HOME/pagbank/{movement}-{yyyy-MM-dd}.json's `detalhes` served in pages of min(S, --page-size) records, pages
  from 1, `pagination` {elements, totalPages, page, totalElements}; HTTP Basic user:token, else 401; a day
  without a file answers an empty page.
Certificates: a throwaway CA (certdir/ca.pem, for the client) and a leaf for localhost/127.0.0.1 (the FTPS
test server's). Every request is logged to HOME/requests.log as "METHOD PATH AUTH" (AUTH: the scheme only, or
"-"). Prints "READY <port>" when listening.
"""
import argparse
import base64
import gzip
import json
import math
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ftps_server import make_certs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--certdir", required=True)
    ap.add_argument("--stone-key", required=True)
    ap.add_argument("--pagbank-user", required=True)
    ap.add_argument("--pagbank-token", required=True)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--gzip-stone", action="store_true")
    ap.add_argument("--redirect-stone", action="store_true")
    a = ap.parse_args()
    make_certs(a.certdir, False)

    def basic(user, password):
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            auth = self.headers.get("Authorization")
            with open(os.path.join(a.home, "requests.log"), "a") as log:
                log.write(f"GET {self.path} {auth.split(' ')[0] if auth else '-'}\n")
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            if parts[0] == "blob":
                if auth:
                    return self.answer(400, b"a pre-signed address takes no Authorization header")
                return self.stone_file(parts[1], parts[2])
            if parts[:2] == ["v2", "merchant"] and len(parts) == 5 and parts[3] == "conciliation-file":
                if auth != basic(a.stone_key, "") or self.headers.get("x-user-type") != "client":
                    return self.answer(401, b'{"message":"unauthorized"}')
                if a.redirect_stone:
                    return self.answer(307, headers=[("Location", f"/blob/{parts[2]}/{parts[4]}?sig=abc")])
                return self.stone_file(parts[2], parts[4])
            if parts[:2] == ["movement", "v3.00"] and len(parts) == 4:
                if auth != basic(a.pagbank_user, a.pagbank_token):
                    return self.answer(401, b'{"message":"nao autorizado"}')
                q = parse_qs(url.query)
                page = int(q.get("pageNumber", ["1"])[0])
                size = min(int(q.get("pageSize", ["1000"])[0]), a.page_size)
                path = os.path.join(a.home, "pagbank", f"{parts[2]}-{parts[3]}.json")
                details, balances = [], []
                if os.path.exists(path):
                    with open(path) as f:
                        doc = json.load(f)
                    details, balances = doc["detalhes"], doc.get("saldos", [])
                pages = max(1, math.ceil(len(details) / size))
                body = {
                    "detalhes": details[(page - 1) * size: page * size],
                    "pagination": {"elements": size, "totalPages": pages, "page": page,
                                   "totalElements": len(details)},
                }
                if "financial" == parts[2]:
                    body["saldos"] = balances if page == 1 else []
                return self.answer(200, json.dumps(body, indent=1).encode(), [("Content-Type", "application/json")])
            return self.answer(404, b"no such route")

        def stone_file(self, code, day):
            path = os.path.join(a.home, "stone", f"{code}-{day}.xml")
            if not os.path.exists(path):
                return self.answer(404, b'{"message":"file not found"}')
            with open(path, "rb") as f:
                body = f.read()
            headers = [("Content-Type", "application/xml")]
            if a.gzip_stone:
                body = gzip.compress(body)
                headers.append(("Content-Encoding", "gzip"))
            return self.answer(200, body, headers)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(a.certdir, "server.pem"), os.path.join(a.certdir, "server.key"))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
