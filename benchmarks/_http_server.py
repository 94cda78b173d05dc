"""A small HTTP/1.1 server for api_aggregation, on loopback, in its own process.

Answers every ``GET /item/<n>`` after ``--delay`` seconds with
``{"id": n, "value": n}``, keeping connections alive (HTTP/1.1 default) unless the
client sends ``Connection: close``. asyncio streams, a listen backlog of 4096 so a
burst of connections is never refused. Prints ``PORT <port>`` once listening.

    python benchmarks/_http_server.py --delay 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

BACKLOG = 4096


async def handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _version = lines[0].split(" ", 2)
            headers = {
                key.strip().lower(): value.strip()
                for key, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(delay)
            tail = path.rsplit("/", 1)[-1]
            n = int(tail) if tail.isdigit() else 0
            body = json.dumps({"id": n, "value": n}).encode()
            close = headers.get("connection", "").lower() == "close"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n".encode()
                + (b"Connection: close\r\n" if close else b"")
                + b"\r\n"
                + body
            )
            await writer.drain()
            if close:
                return
    except ConnectionError:
        return
    finally:
        writer.close()


async def serve(delay: float, port: int) -> None:
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, delay), "127.0.0.1", port, backlog=BACKLOG
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.delay, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
