#!/usr/bin/env python3
"""Lets datavc's GCS test push to fake-gcs-server.

fake-gcs-server serves GCS's XML API for reading, listing and deleting objects, but takes
uploads only through the JSON API, while object_store uploads with the XML API's Put
Object (object_store's own tests use a fork of the emulator for this). This proxy sits in
front of the emulator: it turns each Put Object into the JSON API's media upload of the
same bytes under the same name, answers with the headers the XML API sends (ETag and
x-goog-generation), and passes every other request through unchanged, so the emulator
still answers all of them. Multipart uploads (objects over 16 MiB) are not translated.

Usage: gcs_put_proxy.py PORT UPSTREAM_PORT
It prints "ready" once it listens.
"""

import http.client
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

# Headers that describe one connection, not the message: never relayed.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def upstream(self, method, target, body, headers):
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def answer(self, status, headers, body):
        self.send_response(status)
        length = str(len(body))
        for name, value in headers:
            if name.lower() == "content-length" and self.command == "HEAD":
                # A HEAD answer has no body, but tells the object's length.
                length = value
            elif name.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def relay(self):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        self.answer(*self.upstream(self.command, self.path, self.body(), headers))

    def do_PUT(self):
        url = urlsplit(self.path)
        bucket, _, name = url.path.lstrip("/").partition("/")
        if url.query or not name or "x-goog-copy-source" in self.headers:
            return self.relay()
        target = "/upload/storage/v1/b/%s/o?uploadType=media&name=%s" % (
            bucket, quote(unquote(name), safe=""))
        status, headers, answer = self.upstream(
            "POST", target, self.body(), {"Content-Type": "application/octet-stream"})
        if status != 200:
            return self.answer(status, headers, answer)
        stored = json.loads(answer)
        self.answer(200, [("ETag", '"%s"' % stored["etag"]),
                          ("x-goog-generation", str(stored["generation"]))], b"")

    do_GET = do_HEAD = do_DELETE = do_POST = relay

    def log_message(self, format, *args):
        pass


def main():
    port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
    Proxy.upstream_port = upstream_port
    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
