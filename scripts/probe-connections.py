#!/usr/bin/env python3
"""Probes how a `connected` binary treats slow, idle and too many connections, on this machine
only (127.0.0.1), in bounded time (about two and a half minutes).

    cargo build --release
    python3 scripts/probe-connections.py ./target/release/connected [SCENARIO ...]

1. Idle sockets: 2,000 that send nothing and 2,000 kept alive after one request; how many the
   server still holds after 5, 15, 60 and 85 s, and its memory.
2. Slowloris: a request head sent one byte a second; when the server closes it (30 s at most).
3. An open-file soft limit of 1,024 (a common default), 3,000 idle sockets: does /healthz answer?
4. MAX_CONNECTIONS=500, 3,000 idle sockets: does /healthz answer, how many does the server hold?
5. The defaults, 15,000 sockets kept alive after one request (more than the default cap of
   10,000): the same.

The server runs with its defaults (HEADER_READ_TIMEOUT, IDLE_TIMEOUT) and the demo graph.
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, env=None, soft_files=None):
        self.port = free_port()
        self.dir = tempfile.TemporaryDirectory()
        environment = dict(os.environ, RUST_LOG="warn",
                           DATABASE_URL=f"sqlite://{self.dir.name}/register.db", **(env or {}))

        def limit():
            if soft_files:
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft_files, hard))

        self.process = subprocess.Popen(
            [binary, "serve", "--demo", "--listen-addr", f"127.0.0.1:{self.port}"],
            env=environment, preexec_fn=limit, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def files(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def memory(self):
        fields = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        return f"RSS {fields['VmRSS']}, peak {fields['VmHWM']}"

    def stop(self):
        self.process.terminate()
        try:
            _, errors = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, errors = self.process.communicate()
        lines = [line for line in errors.splitlines() if line.strip()]
        accept_errors = sum("accept" in line for line in lines)
        print(f"   server log: {len(lines)} lines, {accept_errors} about accepting")
        self.dir.cleanup()


def connect(port, send=None):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if send:
        sock.sendall(send)
        answer = b""
        while not answer.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                raise SystemExit("closed before answering")
            answer += chunk
    sock.setblocking(False)
    return sock


def still_open(sockets):
    count = 0
    for sock in sockets:
        try:
            if sock.recv(1, socket.MSG_PEEK):
                count += 1
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def healthz(port, timeout=10.0):
    started = time.time()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.settimeout(max(0.1, timeout - (time.time() - started)))
        sock.sendall(HEALTHZ)
        answer = sock.recv(4096)
        sock.close()
        status = answer.split(b"\r\n", 1)[0].decode() or "connection closed"
    except OSError as e:
        status = f"failed: {e}"
    return f"{status} after {time.time() - started:.2f} s"


def idle_sockets(binary):
    print("1. idle sockets: 2,000 silent, 2,000 kept alive after one request")
    server = Server(binary)
    silent = [connect(server.port) for _ in range(2000)]
    kept = [connect(server.port, HEALTHZ) for _ in range(2000)]
    started = time.time()
    print(f"   at 0 s: server holds {server.files()} files; {server.memory()}")
    for at in (5, 15, 60, 85):
        time.sleep(max(0, started + at - time.time()))
        print(f"   at {at} s: {still_open(silent)} silent and {still_open(kept)} kept-alive still open, "
              f"server holds {server.files()} files; {server.memory()}; /healthz {healthz(server.port)}")
    for sock in silent + kept:
        sock.close()
    server.stop()


def slowloris(binary):
    print("2. slowloris: a request head, one byte a second")
    server = Server(binary)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    started = time.time()
    sock.settimeout(1)
    closed = None
    while time.time() - started < 30:
        try:
            sock.sendall(b"a")
            if sock.recv(4096) == b"":
                closed = time.time() - started
                break
        except socket.timeout:
            continue
        except OSError:
            closed = time.time() - started
            break
    print(f"   closed by the server after {closed:.1f} s" if closed else "   still open after 30 s")
    sock.close()
    server.stop()


def many(binary, title, count, env=None, soft_files=None, send=None):
    print(title)
    server = Server(binary, env=env, soft_files=soft_files)
    sockets = []
    for _ in range(count):
        try:
            sockets.append(connect(server.port, send))
        except OSError as e:
            print(f"   connection {len(sockets) + 1} failed: {e}")
            break
    time.sleep(1)
    print(f"   {len(sockets)} opened, {still_open(sockets)} still open; server holds {server.files()} files; "
          f"/healthz {healthz(server.port)}")
    for sock in sockets:
        sock.close()
    server.stop()


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = sys.argv[1]
    chosen = set(sys.argv[2:]) or {"1", "2", "3", "4", "5"}
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    scenarios = {
        "1": lambda: idle_sockets(binary),
        "2": lambda: slowloris(binary),
        "3": lambda: many(binary, "3. open-file soft limit 1,024, 3,000 silent sockets", 3000,
                          soft_files=1024),
        "4": lambda: many(binary, "4. MAX_CONNECTIONS=500, 3,000 silent sockets", 3000,
                          env={"MAX_CONNECTIONS": "500"}),
        "5": lambda: many(binary, "5. defaults, 15,000 sockets kept alive after one request",
                          15000, send=HEALTHZ),
    }
    for name, scenario in scenarios.items():
        if name in chosen:
            scenario()


if __name__ == "__main__":
    main()
