#!/usr/bin/env python3
"""A local Web Push service: an independent check of dialtone-push.

Written against the RFCs with other people's code (http_ece for aes128gcm decryption,
cryptography for the VAPID signature), so a mistake in dialtone-push's encryption or
signing shows up as a failure here rather than being mirrored by a shared bug.

On start it listens on 127.0.0.1 (a free port) and prints one JSON line:
    {"base_url": "http://127.0.0.1:PORT"}
Control requests (JSON bodies):
    POST /control/subscribe {"name", "application_server_key"?}
        -> {"endpoint", "p256dh", "auth"}: a fresh P-256 key pair and 16-byte auth
        secret; with application_server_key, pushes must be signed by that key (as a
        real push service binds a subscription to the key it was made with).
    POST /control/respond {"name", "statuses": [429, 500], "retry_after"?: 1}
        -> the next pushes to that subscription get these statuses, in order.
Every push (POST /push/NAME) is checked and printed as one JSON line:
    {"name", "status", "ttl", "urgency", "topic", "content_encoding", "vapid_ok",
     "vapid_error"?, "payload"?, "payload_base64"?, "decrypt_error"?}
and answered with the next queued status, else 403 if VAPID failed, 400 if the body did
not decrypt, 201 otherwise. Unknown subscriptions get 404.

Only the standard library's http.server plus http_ece and cryptography.
"""

import base64
import os
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import http_ece
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError as e:  # the Rust helper shows this line when the script dies
    print(json.dumps({"missing_package": e.name or str(e)}), flush=True)
    sys.exit(3)

MAX_TOKEN_LIFETIME = 24 * 60 * 60

LOCK = threading.Lock()
SUBSCRIPTIONS = {}  # name -> {"key", "auth", "server_key", "statuses", "retry_after"}
BASE_URL = ""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def emit(record):
    with LOCK:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def check_vapid(header, server_key):
    """Returns None if the Authorization header is valid VAPID for this service, else why."""
    if not header or not header.startswith("vapid "):
        return "no vapid authorization"
    params = {}
    for part in header[len("vapid "):].split(","):
        key, _, value = part.strip().partition("=")
        params[key] = value
    token, k = params.get("t"), params.get("k")
    if not token or not k:
        return "t= or k= missing"
    if server_key is not None and k != server_key:
        return "k is not the key the subscription was made with"
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(k))
    except Exception as e:
        return f"k is not a P-256 point: {e}"
    pieces = token.split(".")
    if len(pieces) != 3:
        return "t is not a JWT"
    try:
        header_json = json.loads(unb64url(pieces[0]))
        claims = json.loads(unb64url(pieces[1]))
        signature = unb64url(pieces[2])
    except Exception as e:
        return f"t does not decode: {e}"
    if header_json.get("alg") != "ES256":
        return f"alg is {header_json.get('alg')!r}, not ES256"
    if len(signature) != 64:
        return "signature is not 64 bytes (r||s)"
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, f"{pieces[0]}.{pieces[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "signature does not verify with k"
    if claims.get("aud") != BASE_URL:
        return f"aud is {claims.get('aud')!r}, not {BASE_URL!r}"
    exp = claims.get("exp")
    now = time.time()
    if not isinstance(exp, int) or exp <= now:
        return f"exp {exp!r} is not in the future"
    if exp > now + MAX_TOKEN_LIFETIME:
        return f"exp {exp} is more than 24 h ahead"
    sub = claims.get("sub")
    if not isinstance(sub, str) or not (sub.startswith("mailto:") or sub.startswith("https:")):
        return f"sub {sub!r} is not a mailto: or https: URI"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # stdout is for records only
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/control/subscribe":
            self.subscribe(json.loads(body))
        elif self.path == "/control/respond":
            self.respond(json.loads(body))
        elif self.path.startswith("/push/"):
            self.push(self.path[len("/push/"):], body)
        else:
            self.answer(404)

    def subscribe(self, request):
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        with LOCK:
            SUBSCRIPTIONS[request["name"]] = {
                "key": key,
                "auth": auth,
                "server_key": request.get("application_server_key"),
                "statuses": [],
                "retry_after": None,
            }
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.answer(200, {
            "endpoint": f"{BASE_URL}/push/{request['name']}",
            "p256dh": b64url(point),
            "auth": b64url(auth),
        })

    def respond(self, request):
        with LOCK:
            sub = SUBSCRIPTIONS.get(request["name"])
            if sub is not None:
                sub["statuses"].extend(request["statuses"])
                sub["retry_after"] = request.get("retry_after")
        self.answer(200 if sub is not None else 404, {})

    def decrypt(self, sub, body, record):
        try:
            plain = http_ece.decrypt(
                body, private_key=sub["key"], auth_secret=sub["auth"], version="aes128gcm"
            )
        except Exception as e:
            record["decrypt_error"] = f"{type(e).__name__}: {e}"
            return False
        try:
            record["payload"] = plain.decode("utf-8")
        except UnicodeDecodeError:
            record["payload_base64"] = base64.b64encode(plain).decode("ascii")
        return True

    def push(self, name, body):
        with LOCK:
            sub = SUBSCRIPTIONS.get(name)
            queued = sub["statuses"].pop(0) if sub and sub["statuses"] else None
            retry_after = sub["retry_after"] if sub else None
        if sub is None:
            self.answer(404)
            return
        record = {
            "name": name,
            "ttl": self.headers.get("TTL"),
            "urgency": self.headers.get("Urgency"),
            "topic": self.headers.get("Topic"),
            "content_encoding": self.headers.get("Content-Encoding"),
        }
        vapid_error = check_vapid(self.headers.get("Authorization"), sub["server_key"])
        record["vapid_ok"] = vapid_error is None
        if vapid_error:
            record["vapid_error"] = vapid_error
        if not body and not self.headers.get("Content-Encoding"):
            record["payload"] = ""  # a push without payload: nothing to decrypt
            decrypted = True
        else:
            decrypted = self.decrypt(sub, body, record)
        if queued is not None:
            status = queued
        elif vapid_error:
            status = 403
        elif not decrypted:
            status = 400
        else:
            status = 201
        record["status"] = status
        headers = []
        if status == 201:
            headers.append(("Location", f"{BASE_URL}/message/{time.monotonic_ns()}"))
        if retry_after is not None and status in (429, 503):
            headers.append(("Retry-After", str(retry_after)))
        emit(record)
        self.answer(status, headers=headers)


def main():
    global BASE_URL
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    emit({"base_url": BASE_URL})
    # The parent owns us through our stdin: when it closes (the test ended, even by a
    # crash), stop serving.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
