#!/usr/bin/env python3
"""A stand-in for Azure Blob Storage on loopback, for datavc's Azure test.

No Azure emulator can be installed here (Azurite comes from npm, which this machine cannot
reach), so this serves the part of the Blob REST API an object store uses: Put Blob, Put
Block and Put Block List, Get Blob (whole or one range), Get Blob Properties, Delete Blob
(alone or in a Blob Batch, which object_store uses for every delete) and List Blobs, on
one account and its containers, in memory. It checks every request's Shared Key signature
as Azure does (each batched delete's too), so a client that signs wrongly, or with the
wrong account or key, is refused with 403 just as it would be by the real service.

Usage: azure_blob_fake.py PORT ACCOUNT BASE64_KEY CONTAINER...
Requests go to http://127.0.0.1:PORT/ACCOUNT/CONTAINER/BLOB (path style, as Azurite).
It prints "ready" once it listens.
"""

import base64
import hashlib
import hmac
import sys
import threading
import time
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

SIGNED_HEADERS = ("Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
                  "Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
                  "If-Unmodified-Since", "Range")


class Blob:
    def __init__(self, data):
        self.data = data
        self.modified = formatdate(time.time(), usegmt=True)
        self.etag = '"0x%s"' % hashlib.md5(data + self.modified.encode()).hexdigest()[:16].upper()


class Store:
    def __init__(self, account, key, containers):
        self.account = account
        self.key = base64.b64decode(key)
        self.containers = {name: {} for name in containers}
        self.blocks = {}
        self.lock = threading.Lock()


def signature_ok(store, method, headers, path, query):
    expected = base64.b64encode(hmac.new(
        store.key, string_to_sign(store, method, headers, path, query).encode(), hashlib.sha256
    ).digest()).decode()
    return headers.get("Authorization") == f"SharedKey {store.account}:{expected}"


def string_to_sign(store, method, headers, path, query):
    fields = [method]
    for name in SIGNED_HEADERS:
        value = headers.get(name, "")
        fields.append("" if name == "Content-Length" and value == "0" else value)
    ms_headers = sorted((k.lower(), " ".join(v.split())) for k, v in headers.items()
                        if k.lower().startswith("x-ms-"))
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in ms_headers)
    resource = f"/{store.account}{path}"
    for name in sorted(query):
        resource += f"\n{name.lower()}:{','.join(sorted(query[name]))}"
    return "\n".join(fields) + "\n" + canonical_headers + resource


def locate(store, path):
    """The container (a dict) and blob name a path names, or the error code to answer."""
    parts = path.lstrip("/").split("/", 2)
    if parts[0] != store.account or len(parts) < 2:
        return "InvalidUri"
    if parts[1] not in store.containers:
        return "ContainerNotFound"
    return store.containers[parts[1]], unquote(parts[2]) if len(parts) == 3 else ""


def delete_blob(store, path):
    """Deletes the blob at `path`: the status line of the answer."""
    located = locate(store, path)
    if isinstance(located, str):
        return "404 The specified container does not exist."
    container, name = located
    with store.lock:
        if container.pop(name, None) is None:
            return "404 The specified blob does not exist."
    return "202 Accepted"


def parse_headers(lines):
    """Header lines as a Message, which looks names up regardless of case, as HTTP does."""
    headers = Message()
    for line in filter(None, lines):
        name, value = line.split(": ", 1)
        headers[name] = value
    return headers


def run_batch(store, boundary, body):
    """The multipart answer to a Blob Batch of deletes, each signed on its own."""
    answers = []
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, request = part.strip(b"\r\n").partition(b"\r\n\r\n")
        part_headers = parse_headers(head.decode().split("\r\n"))
        lines = request.decode().split("\r\n")
        method, target, _ = lines[0].split(" ")
        headers = parse_headers(lines[1:])
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        if method != "DELETE":
            status = "400 Only deletes can be batched here."
        elif not signature_ok(store, method, headers, url.path, query):
            status = "403 Server failed to authenticate the request."
        else:
            status = delete_blob(store, url.path)
        answers.append(f"Content-Type: application/http\r\n"
                       f"Content-ID: {part_headers.get('Content-ID', '0')}\r\n\r\n"
                       f"HTTP/1.1 {status}\r\nx-ms-version: 2021-08-06\r\n\r\n")
    reply_boundary = "batchresponse_fake"
    text = "".join(f"--{reply_boundary}\r\n{a}" for a in answers) + f"--{reply_boundary}--\r\n"
    return reply_boundary, text.encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, error=None):
        if error:
            body = f"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{error}</Code>" \
                   f"<Message>{error}</Message></Error>".encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if error:
            self.send_header("x-ms-error-code", error)
            self.send_header("Content-Type", "application/xml")
        self.send_header("x-ms-version", self.headers.get("x-ms-version", "2021-08-06"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def parse(self):
        """The container, blob name and query of an authorised request, or None."""
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        store = self.server.store
        if not signature_ok(store, self.command, self.headers, url.path, query):
            self.reply(403, error="AuthenticationFailed")
            return None
        located = locate(store, url.path)
        if isinstance(located, str):
            self.reply(404 if located == "ContainerNotFound" else 400, error=located)
            return None
        return (*located, {k: v[0] for k, v in query.items()})

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_PUT(self):
        data = self.body()
        parsed = self.parse()
        if parsed is None:
            return
        container, name, query = parsed
        store = self.server.store
        with store.lock:
            if query.get("comp") == "block":
                store.blocks[(name, query["blockid"])] = data
                return self.reply(201)
            if query.get("comp") == "blocklist":
                ids = [e.text for e in ElementTree.fromstring(data)]
                try:
                    data = b"".join(store.blocks.pop((name, i)) for i in ids)
                except KeyError:
                    return self.reply(400, error="InvalidBlockList")
            elif self.headers.get("x-ms-blob-type") != "BlockBlob":
                return self.reply(400, error="MissingRequiredHeader")
            blob = container[name] = Blob(data)
        self.reply(201, headers={"ETag": blob.etag, "Last-Modified": blob.modified})

    def do_GET(self):
        parsed = self.parse()
        if parsed is None:
            return
        container, name, query = parsed
        if query.get("comp") == "list":
            return self.list(container, query)
        blob = container.get(name)
        if blob is None:
            return self.reply(404, error="BlobNotFound")
        data, status, headers = blob.data, 200, {}
        wanted = self.headers.get("Range") or self.headers.get("x-ms-range")
        if wanted:
            first, _, last = wanted.removeprefix("bytes=").partition("-")
            first, last = int(first), min(int(last or len(data) - 1), len(data) - 1)
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first:last + 1], 206
        headers.update({"ETag": blob.etag, "Last-Modified": blob.modified,
                        "Content-Type": "application/octet-stream",
                        "x-ms-blob-type": "BlockBlob"})
        self.reply(status, data, headers)

    # HEAD answers as GET does, without the body (`reply` leaves it out).
    do_HEAD = do_GET

    def do_DELETE(self):
        if self.parse() is None:
            return
        status = delete_blob(self.server.store, urlsplit(self.path).path)
        if not status.startswith("202"):
            return self.reply(404, error="BlobNotFound")
        self.reply(202)

    def do_POST(self):
        body = self.body()
        parsed = self.parse()
        if parsed is None:
            return
        _, _, query = parsed
        content_type = self.headers.get("Content-Type", "")
        if query.get("comp") != "batch" or "boundary=" not in content_type:
            return self.reply(400, error="InvalidQueryParameterValue")
        boundary = content_type.split("boundary=", 1)[1].encode()
        reply_boundary, answer = run_batch(self.server.store, boundary, body)
        self.reply(202, answer, {"Content-Type": f"multipart/mixed; boundary={reply_boundary}"})

    def list(self, container, query):
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        marker = query.get("marker", "")
        limit = int(query.get("maxresults", "5000"))
        with self.server.store.lock:
            # A marker that names a folder (a BlobPrefix) skips everything inside it.
            names = sorted(n for n in container if n.startswith(prefix) and n > marker
                           and not (marker.endswith(delimiter or "\0") and n.startswith(marker)))
        blobs, prefixes, next_marker = [], [], ""
        for name in names:
            if len(blobs) + len(prefixes) == limit:
                next_marker = blobs[-1] if blobs else prefixes[-1]
                break
            cut = name.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                folder = name[:cut + len(delimiter)]
                if folder not in prefixes:
                    prefixes.append(folder)
            else:
                blobs.append(name)
        items = "".join(
            f"<Blob><Name>{escape(n)}</Name><Properties>"
            f"<Last-Modified>{container[n].modified}</Last-Modified>"
            f"<Etag>{container[n].etag}</Etag>"
            f"<Content-Length>{len(container[n].data)}</Content-Length>"
            f"<Content-Type>application/octet-stream</Content-Type>"
            f"<BlobType>BlockBlob</BlobType></Properties></Blob>" for n in blobs)
        items += "".join(f"<BlobPrefix><Name>{escape(p)}</Name></BlobPrefix>" for p in prefixes)
        body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults>"
                f"<Prefix>{escape(prefix)}</Prefix><Blobs>{items}</Blobs>"
                f"<NextMarker>{escape(next_marker)}</NextMarker></EnumerationResults>")
        self.reply(200, body.encode(), {"Content-Type": "application/xml"})


def main():
    port, account, key, *containers = sys.argv[1:]
    server = ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    server.store = Store(account, key, containers)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
