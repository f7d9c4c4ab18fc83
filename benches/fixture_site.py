"""Shared by the benchmark scripts: serves tests/fixtures on 127.0.0.1 at the
paths the shipped config uses, and rewrites the shipped config to point there."""
import http.server
import os
import re
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "medee")
ROUTES = {
    "/mn/more/8": "montsame-mn.html",
    "/en/more/301": "montsame-en.html",
    "/": "gogo-mn.html",
    "/nknews/feed/": "nknews-feed.xml",
    "/mongoliafocus/feed/": "mongoliafocus-feed.xml",
    **{f"/mn/read/{n}": "montsame-mn-article.html" for n in (398211, 398207, 398190, 398174)},
    **{f"/en/read/{n}": "montsame-mn-article.html" for n in (377934, 377921, 377915)},
    **{f"/r/{code}": "gogo-mn-article.html" for code in ("n7k2qa", "m3zd8w", "p8x4tb", "k2v9hs")},
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = ROUTES.get(self.path)
        if name is None:
            self.send_error(404)
            return
        with open(os.path.join(ROOT, "tests", "fixtures", name), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_server():
    """Starts the fixture server; returns it and its origin (http://127.0.0.1:PORT)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def shipped_config(origin):
    """config/medee.toml with every site pointed at `origin`. The sites share one
    loopback server here, so per-host pacing is turned off: it would otherwise
    measure the 1 s politeness delay, not medee."""
    with open(os.path.join(ROOT, "config", "medee.toml"), encoding="utf-8") as f:
        text = re.sub(r"https://(montsame\.mn|gogo\.mn)", origin, f.read())
    # Both feeds are at /feed/ on their own hosts; here each gets a path.
    text = text.replace("https://www.nknews.org/feed/", f"{origin}/nknews/feed/")
    text = text.replace("https://mongoliafocus.com/feed/", f"{origin}/mongoliafocus/feed/")
    return text.replace('per_host_delay = "1s"', 'per_host_delay = "0s"')
