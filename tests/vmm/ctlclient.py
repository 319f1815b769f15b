# SPDX-License-Identifier: MIT
"""A client of dmtvm's control socket for the tests: newline-delimited JSON,
one request object per line, one reply object per line (vmm/README.md)."""
import json
import socket


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect waits while the listen backlog (8) is full; a
        # non-blocking one would get EAGAIN (README.md).
        self.s.connect(path)
        self.s.settimeout(10)
        self.buf = b""

    def send(self, raw):
        self.s.sendall(raw)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\n", 1)
        return json.loads(ln)

    def call(self, obj):
        """Sends obj (a dict, or a raw JSON string) and returns the reply."""
        self.send((obj if isinstance(obj, str) else json.dumps(obj)).encode() + b"\n")
        return self.line()

    def eof(self):
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False
