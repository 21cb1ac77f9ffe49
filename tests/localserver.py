"""A scriptable HTTP server on loopback for client tests: the shared plumbing of the fakes."""

import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    """Serves `self._handler()` on 127.0.0.1 (a free port) in a thread; `url` ends with
    `self.prefix`. Subclasses set what they need, then call `super().__init__()`."""

    prefix = ""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _handler(self):
        raise NotImplementedError

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
