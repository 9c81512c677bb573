"""A stand-in for `streamlit run app.py` in the supervisor's tests: answers /_stcore/health
and /_stcore/script-health-check on the port it is given, and leaves a file named by its pid
in FOLDER when primed. With "hang" as MODE its health stops answering once primed.

    python fake_streamlit.py PORT FOLDER [MODE]
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PORT, FOLDER = int(sys.argv[1]), Path(sys.argv[2])
MODE = sys.argv[3] if len(sys.argv) > 3 else ""
PRIMED = FOLDER / f"primed-{__import__('os').getpid()}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/_stcore/script-health-check":
            PRIMED.write_text("ok")
        elif self.path != "/_stcore/health" or (MODE == "hang" and PRIMED.exists()):
            self.send_error(503 if self.path == "/_stcore/health" else 404)
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
