"""ratings: star ratings of each book, written in Python with only the standard library,
to show that the mesh does not care what a service is written in. Its sidecar is the same
`weft proxy` as everyone else's; this program knows nothing about the mesh.

Listens on 127.0.0.1:$PORT, prints one "listening" line, answers:
  GET /ratings/<book id>   {"bookId", "ratings": {reviewer: stars}, "average", "count", ...}
  GET /healthz
"""

import json
import os
import random
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = os.environ.get("SERVICE_NAME", "ratings")
VERSION = os.environ.get("SERVICE_VERSION", "v1")
RUNTIME = "Python %d.%d.%d http.server" % sys.version_info[:3]

RATINGS = {
    1: {"ada": 5, "grace": 4},
    2: {"alan": 5, "barbara": 5},
    3: {"edsger": 4, "margaret": 3},
    4: {"donald": 5, "frances": 4},
    5: {"ken": 4, "radia": 3},
}


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the sidecar's connections alive; every response sets Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "ratings/1"
    # http.server writes the head and the body separately; with Nagle's algorithm on, the
    # body waits for the peer's (delayed) ACK of the head: +40 ms on a kept-alive connection.
    disable_nagle_algorithm = True

    def send_json(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self.send_json(200, {"status": "ok", "service": SERVICE, "version": VERSION})
            return
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "ratings" and parts[1].isdigit():
            time.sleep(random.uniform(0.001, 0.004))
            book_id = int(parts[1])
            ratings = RATINGS.get(book_id)
            if ratings is None:
                self.send_json(404, {"error": "no ratings for book %d" % book_id})
                return
            self.send_json(
                200,
                {
                    "bookId": book_id,
                    "ratings": ratings,
                    "average": round(sum(ratings.values()) / len(ratings), 2),
                    "count": len(ratings),
                    "servedBy": "%s %s" % (SERVICE, VERSION),
                    "runtime": RUNTIME,
                },
            )
            return
        self.send_json(404, {"error": "no route for GET %s" % path})

    def log_message(self, format, *args):
        # The sidecar already logs and measures every request; stay quiet.
        pass


def main():
    port = int(os.environ.get("PORT", "0"))
    host = os.environ.get("HOST", "127.0.0.1")
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True

    def stop(_signum, _frame):
        # serve_forever() runs in this thread: leave it by raising out of the handler.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("%s %s listening on http://%s:%d (%s)" % (SERVICE, VERSION, host, server.server_address[1], RUNTIME), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
