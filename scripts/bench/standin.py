#!/usr/bin/env python3
"""A loopback stand-in for SendGrid's and Telegram's APIs, for `make bench-notify` and
`make contract`.

It answers as they do (202 to /v3/mail/send, `{"ok": true}` to /bot<token>/sendMessage),
counts the recipients it received, and remembers when the first and the last arrived. It is
also a webhook receiver that takes everything: any POST under /hook is answered 200.
GET /stats answers the counts and the times (seconds since the epoch) as JSON; POST /reset
clears them. Telegram requests are also checked against the Bot API's pace: it records the
most messages seen in any one-second window.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
stats = {}


def reset():
    stats.update(emails=0, email_requests=0, first_email=None, last_email=None,
                 telegrams=0, first_telegram=None, last_telegram=None, telegram_times=[])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/times":
            with lock:
                return self.answer(200, json.dumps(sorted(stats["telegram_times"])).encode())
        with lock:
            view = {k: v for k, v in stats.items() if k != "telegram_times"}
            times = sorted(stats["telegram_times"])
        peak, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= 1.0:
                start += 1
            peak = max(peak, end - start + 1)
        view["telegram_peak_per_second"] = peak
        self.answer(200, json.dumps(view).encode())

    def body(self):
        if self.headers.get("transfer-encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("content-length", 0)))
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def do_POST(self):
        body = self.body()
        now = time.time()
        if self.path == "/reset":
            with lock:
                reset()
            return self.answer(204)
        if self.path == "/v3/mail/send":
            recipients = len(json.loads(body)["personalizations"])
            with lock:
                stats["emails"] += recipients
                stats["email_requests"] += 1
                stats["first_email"] = stats["first_email"] or now
                stats["last_email"] = now
            return self.answer(202)
        if self.path.endswith("/sendMessage"):
            with lock:
                stats["telegrams"] += 1
                stats["first_telegram"] = stats["first_telegram"] or now
                stats["last_telegram"] = now
                stats["telegram_times"].append(now)
            return self.answer(200, b'{"ok":true,"result":{"message_id":1}}')
        if self.path.startswith("/hook"):
            return self.answer(200)
        self.answer(404, b'{"error":"unknown path"}')


class Server(ThreadingHTTPServer):
    # The default backlog of 5 drops concurrent connections' SYNs (retried a second later).
    request_queue_size = 256
    daemon_threads = True


if __name__ == "__main__":
    reset()
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
