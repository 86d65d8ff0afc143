#!/usr/bin/env python3
"""Lets datavc's GCS test push to fake-gcs-server.

fake-gcs-server serves GCS's XML API for reading, listing and deleting objects, but takes
uploads only through the JSON API, while object_store uploads with the XML API's Put
Object (object_store's own tests use a fork of the emulator for this). This proxy sits in
front of the emulator: it turns each Put Object into the JSON API's media upload of the
same bytes under the same name, answers with the headers the XML API sends (ETag and
x-goog-generation), and passes every other request through unchanged, so the emulator
still answers all of them.

Multipart uploads (objects over 16 MiB) are held here: the proxy answers the XML API's
initiate, part and abort requests itself, and on completion uploads the parts, in the
order the completion lists them and only if each ETag names the bytes received, as one
object. `GET /_proxy/uploads` answers how many uploads were begun and never completed
nor aborted: what a real bucket would keep, and bill, until someone aborts them.

Usage: gcs_put_proxy.py PORT UPSTREAM_PORT
It prints "ready" once it listens.
"""

import hashlib
import http.client
import json
import sys
import threading
import uuid
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

# Headers that describe one connection, not the message: never relayed.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0
    # Open multipart uploads: upload id -> {part number: bytes}.
    uploads = {}
    uploads_lock = threading.Lock()

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

    def target(self):
        """The request's bucket, object name and query."""
        url = urlsplit(self.path)
        bucket, _, name = url.path.lstrip("/").partition("/")
        return bucket, unquote(name), parse_qs(url.query, keep_blank_values=True)

    def store(self, bucket, name, body):
        """Stores `body` as object `name` through the JSON API. Returns the headers the XML
        API answers an upload with, or None once it has relayed the emulator's refusal."""
        target = "/upload/storage/v1/b/%s/o?uploadType=media&name=%s" % (
            bucket, quote(name, safe=""))
        status, headers, answer = self.upstream(
            "POST", target, body, {"Content-Type": "application/octet-stream"})
        if status != 200:
            self.answer(status, headers, answer)
            return None
        stored = json.loads(answer)
        return [("ETag", '"%s"' % stored["etag"]),
                ("x-goog-generation", str(stored["generation"]))]

    def do_PUT(self):
        bucket, name, query = self.target()
        if "uploadId" in query:
            return self.put_part(query["uploadId"][0], int(query["partNumber"][0]))
        if query or not name or "x-goog-copy-source" in self.headers:
            return self.relay()
        headers = self.store(bucket, name, self.body())
        if headers is not None:
            self.answer(200, headers, b"")

    def do_POST(self):
        bucket, name, query = self.target()
        if "uploads" in query:
            upload_id = uuid.uuid4().hex
            with self.uploads_lock:
                self.uploads[upload_id] = {}
            result = ("<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                      "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
                      % (escape(bucket), escape(name), upload_id))
            return self.answer(200, [], result.encode())
        if "uploadId" in query:
            return self.complete(bucket, name, query["uploadId"][0])
        self.relay()

    def do_DELETE(self):
        _, _, query = self.target()
        if "uploadId" not in query:
            return self.relay()
        with self.uploads_lock:
            found = self.uploads.pop(query["uploadId"][0], None)
        self.answer(204 if found is not None else 404, [], b"")

    def do_GET(self):
        if self.path != "/_proxy/uploads":
            return self.relay()
        with self.uploads_lock:
            still_open = len(self.uploads)
        self.answer(200, [], str(still_open).encode())

    def put_part(self, upload_id, number):
        body = self.body()
        with self.uploads_lock:
            parts = self.uploads.get(upload_id)
            if parts is not None:
                parts[number] = body
        if parts is None:
            return self.answer(404, [], b"no such upload")
        self.answer(200, [("ETag", '"%s"' % hashlib.md5(body).hexdigest())], b"")

    def complete(self, bucket, name, upload_id):
        listed = ElementTree.fromstring(self.body())
        with self.uploads_lock:
            parts = dict(self.uploads.get(upload_id, {}))
        chosen = []
        for part in listed.iter("Part"):
            number = int(part.findtext("PartNumber"))
            body = parts.get(number)
            if body is None or part.findtext("ETag").strip('"') != hashlib.md5(body).hexdigest():
                return self.answer(400, [], b"part %d was not uploaded as listed" % number)
            chosen.append(body)
        headers = self.store(bucket, name, b"".join(chosen))
        if headers is None:
            return
        # Like GCS, a failed completion leaves the upload open; a completed one is gone.
        with self.uploads_lock:
            self.uploads.pop(upload_id, None)
        etag = dict(headers)["ETag"]
        result = "<CompleteMultipartUploadResult><ETag>%s</ETag></CompleteMultipartUploadResult>"
        self.answer(200, headers, (result % etag).encode())

    do_HEAD = relay

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
