/**
 * `truenas-query`: one JSON-RPC call to the TrueNAS middleware over its WebSocket API
 * (`wss://<nas>/api/current`, TrueNAS 25.04+), printed as JSON. Python 3 standard library only:
 * curl on Debian 12 speaks no WebSocket, and python3 is on every PBS and PVE host (ifupdown2).
 *
 * Why the API and not `zpool list -Hp` on the NAS: TrueNAS is an appliance whose root file system
 * is read-only and replaced by every update, so a timer or script installed on it is unsupported
 * and lost; `zpool list` would also need a shell login on the NAS, which the replication design
 * deliberately does not give the PBS host (TrueNAS pulls). `pool.query` is the supported,
 * versioned interface, needs only an API key of a read-only user (the READONLY_ADMIN role) and
 * reports pool health as well as capacity.
 */

export const TRUENAS_QUERY_SCRIPT = `#!/usr/bin/python3
"""truenas-query: one TrueNAS JSON-RPC call over the WebSocket API, result as JSON on stdout.

Written by Pulumi (homelab-backup): edits here are overwritten.
  TRUENAS_API_KEY=... truenas-query --url wss://nas/api/current --user monitor \\\\
      [--fingerprint AA:BB:..] [--cafile PATH] METHOD [PARAMS_JSON]
With --fingerprint the certificate is checked against the pin before the key is sent (a
self-signed TrueNAS certificate); without it, against the system's (or --cafile's) CAs.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
from urllib.parse import urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Failure(Exception):
    pass


def colons(hexdigest):
    return ":".join(hexdigest[i:i + 2] for i in range(0, len(hexdigest), 2))


def open_tls(url, fingerprint, cafile, timeout):
    parts = urlsplit(url)
    if parts.scheme != "wss":
        # TrueNAS revokes an API key that was sent in clear; never risk it.
        raise Failure("refusing %s: the API key only travels over TLS (wss://)" % url)
    host, port = parts.hostname, parts.port or 443
    if fingerprint:
        # The pin below replaces chain validation, which a self-signed certificate cannot pass.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=cafile)
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
        sock = ctx.wrap_socket(raw, server_hostname=host)
    except (OSError, ssl.SSLError) as e:
        raise Failure("TrueNAS at %s:%s is unreachable: %s" % (host, port, e))
    if fingerprint:
        got = hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest().upper()
        want = fingerprint.replace(":", "").upper()
        if got != want:
            sock.close()
            raise Failure("the certificate of TrueNAS at %s:%s has SHA-256 fingerprint %s, but %s is pinned; "
                          "refusing to send the API key" % (host, port, colons(got), colons(want)))
    return sock, parts


class Reader:
    def __init__(self, sock, buffered):
        self.sock, self.buf = sock, buffered

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("TrueNAS closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def handshake(sock, parts):
    key = base64.b64encode(os.urandom(16)).decode()
    request = ("GET %s HTTP/1.1\\r\\nHost: %s\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
               "Sec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n") % (parts.path or "/", parts.netloc, key)
    sock.sendall(request.encode())
    buf = b""
    while b"\\r\\n\\r\\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise Failure("TrueNAS closed the connection during the WebSocket handshake")
        buf += chunk
    head, rest = buf.split(b"\\r\\n\\r\\n", 1)
    lines = head.decode("latin-1").split("\\r\\n")
    if len(lines[0].split()) < 2 or lines[0].split()[1] != "101":
        raise Failure("no WebSocket API at %s: %s" % (parts.geturl(), lines[0]))
    headers = dict((k.strip().lower(), v.strip()) for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l))
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    if headers.get("sec-websocket-accept") != accept:
        raise Failure("the WebSocket handshake answered a wrong Sec-WebSocket-Accept")
    return Reader(sock, rest)


def send_frame(sock, opcode, payload):
    # Clients must mask every frame (RFC 6455 5.3).
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def receive(sock, reader):
    parts = []
    while True:
        b0, b1 = reader.read(2)
        opcode, n = b0 & 0x0F, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", reader.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", reader.read(8))[0]
        mask = reader.read(4) if b1 & 0x80 else None
        data = reader.read(n)
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        if opcode == 0x8:
            raise Failure("TrueNAS closed the WebSocket")
        if opcode == 0x9:
            send_frame(sock, 0xA, data)
            continue
        if opcode == 0xA:
            continue
        parts.append(data)
        if b0 & 0x80:
            return b"".join(parts).decode("utf-8")


def call(sock, reader, ident, method, params):
    send_frame(sock, 0x1, json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}).encode())
    while True:
        message = json.loads(receive(sock, reader))
        if message.get("id") != ident:
            continue
        if "error" in message:
            # Only the message: error data may quote the request, and the login request holds the key.
            raise Failure("%s failed: %s" % (method, (message["error"] or {}).get("message", "unknown error")))
        return message.get("result")


def main():
    parser = argparse.ArgumentParser(prog="truenas-query")
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--fingerprint")
    parser.add_argument("--cafile")
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("method")
    parser.add_argument("params", nargs="?", default="[]")
    args = parser.parse_args()
    key = os.environ.get("TRUENAS_API_KEY", "")
    if not key:
        raise Failure("TRUENAS_API_KEY is not set")
    sock, parts = open_tls(args.url, args.fingerprint, args.cafile, args.timeout)
    try:
        reader = handshake(sock, parts)
        login = call(sock, reader, 1, "auth.login_ex", [{"mechanism": "API_KEY_PLAIN", "username": args.user, "api_key": key}])
        if not isinstance(login, dict) or login.get("response_type") != "SUCCESS":
            kind = login.get("response_type") if isinstance(login, dict) else login
            raise Failure("TrueNAS refused the API key of user %s (%s)" % (args.user, kind))
        result = call(sock, reader, 2, args.method, json.loads(args.params))
        try:
            send_frame(sock, 0x8, b"")
        except OSError:
            pass
    except (OSError, ValueError) as e:
        raise Failure("TrueNAS API call failed: %s" % e)
    finally:
        sock.close()
    json.dump(result, sys.stdout)
    sys.stdout.write("\\n")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print("truenas-query: %s" % e, file=sys.stderr)
        sys.exit(1)
`;
