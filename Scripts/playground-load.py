#!/usr/bin/env python3
"""Load and protocol test of `backprop playground` over loopback, bounded in count and time.

It starts the server on a free port and repeats the attacks of issue 22 (D11-D14, the command
burst, malformed WebSocket frames) while it times an ordinary request, which must be answered
within 1 s every time. It prints each figure and fails on the first check that does not hold.

Usage: Scripts/playground-load.py PATH-TO-BACKPROP
"""
import base64
import os
import re
import socket
import subprocess
import sys
import threading
import time

DEADLINE = 1.0  # seconds within which a valid request must be answered
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def timed_get(port, path="/api/settings?data=moons"):
    """Status and seconds of a plain GET on a new connection."""
    start = time.monotonic()
    with connect(port) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1") else 0
    return status, time.monotonic() - start


def answered_in_time(port, what):
    status, seconds = timed_get(port)
    check(status == 200 and seconds < DEADLINE, f"{what}: a GET answered {status} in {seconds * 1000:.0f} ms")


def handshake(port, query="data=xor", host=None, origin=None):
    """A socket after a WebSocket upgrade request, and the status the server answered."""
    s = connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET /api/session?{query} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}",
             "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
             "Sec-WebSocket-Version: 13"]
    if origin:
        lines.append(f"Origin: {origin}")
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1") else 0
    return s, status


def frame(payload, opcode=1, masked=True, reserved=0):
    header = bytes([0x80 | reserved << 4 | opcode])
    size = len(payload)
    bit = 0x80 if masked else 0
    if size < 126:
        header += bytes([bit | size])
    elif size < 65536:
        header += bytes([bit | 126]) + size.to_bytes(2, "big")
    else:
        header += bytes([bit | 127]) + size.to_bytes(8, "big")
    if masked:
        key = os.urandom(4)
        header += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + payload


def read_frames(s, seconds, until=None):
    """The (opcode, payload) frames the server sends within `seconds`, until it closes (or
    sends a frame whose payload holds `until`)."""
    s.settimeout(seconds)
    data, frames, end = b"", [], time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
            while len(data) >= 2:
                size, offset = data[1] & 0x7F, 2
                if size == 126:
                    size, offset = int.from_bytes(data[2:4], "big"), 4
                elif size == 127:
                    size, offset = int.from_bytes(data[2:10], "big"), 10
                if len(data) < offset + size:
                    break
                frames.append((data[0] & 0x0F, data[offset:offset + size]))
                data = data[offset + size:]
            if frames and (frames[-1][0] == 8 or until and any(until in p for _, p in frames)):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    return frames


def close_code(frames):
    closes = [payload for opcode, payload in frames if opcode == 8]
    return int.from_bytes(closes[0][:2], "big") if closes and len(closes[0]) >= 2 else None


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    binary = sys.argv[1]
    server = subprocess.Popen([binary, "playground", "--port", "0", "--max-sessions", "16"],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        port = int(re.search(r":(\d+)/", line).group(1))
        print(f"server on port {port}, RSS {rss_mb(server.pid):.0f} MB")
        answered_in_time(port, "idle")

        # D11: long request lines are cut at the header limit; the server stays responsive.
        def long_line(results):
            try:
                with connect(port) as s:
                    start = time.monotonic()
                    s.sendall(b"GET /" + b"a" * (1 << 20))
                    s.sendall(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    reply = s.recv(100)
                    results.append((reply[:12], time.monotonic() - start))
            except (BrokenPipeError, ConnectionResetError) as error:
                results.append((type(error).__name__.encode(), time.monotonic() - start))
        results = []
        threads = [threading.Thread(target=long_line, args=(results,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        answered_in_time(port, "D11, two 1 MB request lines")
        for thread in threads:
            thread.join(10)
        check(len(results) == 2 and all(not r[0].startswith(b"HTTP/1.1 2") and r[1] < 5 for r in results),
              f"D11: each 1 MB request line refused or cut off: {results}")

        # D12: 1000 commands in one burst on one socket.
        s, status = handshake(port)
        check(status == 101, f"a WebSocket from this site opens a session ({status})")
        burst = b"".join(frame(b'{"command": "%s"}' % (b"start" if i % 2 else b"pause")) for i in range(1000))
        s.sendall(burst)
        answered_in_time(port, "D12, after a burst of 1000 commands")
        # The warning comes after the replies to the burst's admitted commands.
        start = time.monotonic()
        frames = read_frames(s, 15, until=b"too many commands")
        dropped = sum(b"too many commands" in payload for _, payload in frames)
        check(dropped >= 1 and len(frames) <= 30,
              f"D12: the burst was cut to the command rate: {len(frames)} messages, the last a "
              f"warning, after {time.monotonic() - start:.1f} s")
        s.close()

        # D13: sessions whose clients stop reading.
        stalled = []
        for _ in range(4):
            s, status = handshake(port, "data=spirals&samples=1000&layers=8,8&speed=2000")
            check(status == 101, f"D13: a session opens ({status})")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(frame(b'{"command": "start"}'))
            stalled.append(s)
        time.sleep(3)
        early, early_cpu = rss_mb(server.pid), cpu_seconds(server.pid)
        answered_in_time(port, "D13, four sessions that stopped reading")
        time.sleep(7)
        late, late_cpu = rss_mb(server.pid), cpu_seconds(server.pid)
        check(late - early < 20, f"D13: RSS {early:.0f} MB after 3 s, {late:.0f} MB after 10 s")
        check(late_cpu - early_cpu < 2, f"D13: the stalled sessions used {late_cpu - early_cpu:.2f} s "
              "of CPU in those 7 s (they pause)")
        answered_in_time(port, "D13, 10 s on")
        for s in stalled:
            s.close()

        # D14: DNS rebinding: another site's name in Host (and Origin).
        evil = f"evil.example:{port}"
        s, status = handshake(port, host=evil, origin=f"http://{evil}")
        check(status != 101, f"D14: a WebSocket with Host {evil} is refused ({status})")
        s.close()
        s, status = handshake(port, origin="http://evil.example")
        check(status != 101, f"D14: a WebSocket from Origin http://evil.example is refused ({status})")
        s.close()
        with connect(port) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: {evil}\r\nConnection: close\r\n\r\n".encode())
            reply = s.recv(200)
        check(reply.startswith(b"HTTP/1.1 403"), f"D14: GET / with Host {evil}: {reply[:12]}")

        # RFC 6455: a client's frames are masked and set no reserved bit.
        for name, bad in [("unmasked", frame(b'{"command": "step"}', masked=False)),
                          ("RSV1 set", frame(b'{"command": "step"}', reserved=4))]:
            s, status = handshake(port)
            s.sendall(bad)
            code = close_code(read_frames(s, 3))
            check(code == 1002, f"RFC 6455: a {name} frame closes the socket with 1002 (got {code})")
            s.close()
        s, status = handshake(port)
        s.sendall(frame(b"x" * (200 * 1024)))
        code = close_code(read_frames(s, 3))
        check(code == 1009, f"a 200 KiB message closes the socket with 1009 (got {code})")
        s.close()
        answered_in_time(port, "at the end")
        print(f"server RSS at the end {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(10)
    if failures:
        print(f"playground load test: {len(failures)} check(s) failed")
        sys.exit(1)
    print("playground load test: passed")


main()
