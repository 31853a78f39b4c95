"""Clients that do not read, against a running server: HTTP/2 clients (prior knowledge) that
open no flow-control window and ask for /healthz, and HTTP/1.1 clients that ask for a long
history and read only its first bytes. While they are connected, a new /healthz is timed
and the server's memory read; then it is counted how many of them the server has closed.

    python slow_readers.py ADDRESS --h2 N --h1 M --history PATH [--pid PID] [--hold SECONDS]

Prints what it measured, one `name=value` a line; it asserts nothing (the caller does).
"""

import argparse
import asyncio
import socket
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

SETUP_TIMEOUT = 10.0


class ZeroWindow:
    """An HTTP/2 client with SETTINGS_INITIAL_WINDOW_SIZE=0 and one GET /healthz."""

    def __init__(self):
        self.closed_at = None
        self.reader_task = None

    async def start(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(host, port)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}
        )
        conn.initiate_connection()
        conn.send_headers(
            1,
            [(":method", "GET"), (":path", "/healthz"), (":scheme", "http"), (":authority", "localhost")],
            end_stream=True,
        )
        self.writer.write(conn.data_to_send())
        # The answer's head comes; its body cannot.
        while True:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("closed before the answer's head")
            events = conn.receive_data(data)
            if any(isinstance(e, h2.events.ResponseReceived) for e in events):
                break
        self.reader_task = asyncio.create_task(self._until_closed())

    async def _until_closed(self):
        try:
            while await self.reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
        self.closed_at = time.monotonic()


class NeverReads:
    """An HTTP/1.1 client that asks for a long history and reads its first 12 bytes only
    (when its answer begins: with every long-read turn taken, it waits for one)."""

    async def start(self, host, port, path):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        self.reader, self.writer = await asyncio.open_connection(sock=sock)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())

    async def answered(self, within):
        """Whether the answer began (with a 200) within `within` seconds."""
        try:
            return await asyncio.wait_for(self.reader.readexactly(12), within) == b"HTTP/1.1 200"
        except (asyncio.TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError):
            return False

    async def is_closed(self):
        """Reads what is left: closed if it ends, open if it stops coming."""
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(1 << 20), 0.5)
                if not data:
                    return True
        except asyncio.TimeoutError:
            return False
        except (ConnectionError, OSError):
            return True


async def healthz(host, port):
    """Seconds a new connection's /healthz takes, or None after 10 s."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        head = await asyncio.wait_for(reader.readexactly(12), 10)
        writer.close()
        return time.monotonic() - started if head == b"HTTP/1.1 200" else None
    except (asyncio.TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError):
        return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


async def open_all(clients, start, concurrency=200):
    """Starts every client, `concurrency` at a time; returns those that started."""
    gate = asyncio.Semaphore(concurrency)

    async def one(client):
        async with gate:
            try:
                await asyncio.wait_for(start(client), SETUP_TIMEOUT)
                return client
            except (asyncio.TimeoutError, ConnectionError, OSError, h2.exceptions.ProtocolError):
                return None

    return [c for c in await asyncio.gather(*(one(c) for c in clients)) if c is not None]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--h2", type=int, default=0)
    parser.add_argument("--h1", type=int, default=0)
    parser.add_argument("--history", default="/connected/register/erin/alice")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to wait before closing is counted")
    args = parser.parse_args()
    host, port = args.address.rsplit(":", 1)
    port = int(port)

    began = time.monotonic()
    h1 = await open_all([NeverReads() for _ in range(args.h1)], lambda c: c.start(host, port, args.history))
    h2s = await open_all([ZeroWindow() for _ in range(args.h2)], lambda c: c.start(host, port))
    opened = time.monotonic()
    print(f"h2_connected={len(h2s)}")
    print(f"h1_connected={len(h1)}")
    print(f"h1_answered={sum(await asyncio.gather(*(c.answered(2.0) for c in h1)))}")
    print(f"connect_seconds={opened - began:.2f}")
    # Every response has waited on its client for a second by now.
    await asyncio.sleep(1.0)
    latencies = [await healthz(host, port) for _ in range(5)]
    answered = [l for l in latencies if l is not None]
    print("healthz_ms=" + ",".join("timeout" if l is None else f"{l * 1000:.0f}" for l in latencies))
    print(f"healthz_answered={len(answered)}/{len(latencies)}")
    print(f"healthz_max_ms={max(answered) * 1000:.0f}" if answered else "healthz_max_ms=none")
    if args.pid:
        print(f"rss_kb={rss_kb(args.pid)}")
    await asyncio.sleep(max(0.0, args.hold - (time.monotonic() - opened)))
    h2_open = sum(1 for c in h2s if c.closed_at is None)
    h1_open = sum(1 for c in await asyncio.gather(*(c.is_closed() for c in h1)) if not c)
    print(f"h2_still_open={h2_open}")
    print(f"h1_still_open={h1_open}")


if __name__ == "__main__":
    asyncio.run(main())
