"""gunicorn's threaded worker, except that a request is read whole before a thread takes it.

gunicorn's gthread hands a connection to a request thread as soon as it has bytes, and
the thread then blocks reading the rest: four clients that send half a request stop a
worker of four threads. Here the worker's event loop reads each request, without
blocking, until it is whole (framing.Scanner), within `request_timeout` seconds and the size
limits, and only then does a thread parse it from memory and run the app. Errors the
server answers itself are JSON with the app's security headers, never gunicorn's HTML.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time
from collections import Counter
from functools import partial

from gunicorn.http import errors as http_errors
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import IterUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker
from werkzeug.http import HTTP_STATUS_CODES

from qa_service.http.admission import RETRY_AFTER, Admission
from qa_service.http.app import SECURITY_HEADERS, error_code
from qa_service.http.framing import Limits, Scanner, State
from qa_service.http.logs import REQUEST_ID_HEADER, incoming_id
from qa_service.http.metrics import metrics

RECV_BYTES = 64 * 1024
# A refused client may still be sending: its connection stays open this long (seconds),
# discarding what comes, so that closing it does not reset it and lose the answer.
LINGER = 2.0
# A stopping worker waits this long for requests still arriving (gthread: idle ones).
STOP_LINGER = 2.0
# Connections taken each time the listener is ready: a flood of connects is drained in
# batches, not one a turn of the event loop (each turn also checks every connection).
ACCEPT_BATCH = 64
# The worker stops accepting this long (seconds) when the process is out of file
# descriptors: the listener stays ready, and accepting again at once would spin.
EMFILE_PAUSE = 0.1
_OUT_OF_FILES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)

_STATUS = {  # what the client gets for what gunicorn's parser refused; others are 400
    http_errors.LimitRequestLine: 414,
    http_errors.LimitRequestHeaders: 431,
    http_errors.UnsupportedTransferCoding: 501,
    http_errors.ExpectationFailed: 417,
    http_errors.ForbiddenProxyRequest: 403,
}


def _host(address) -> str:
    """Return the host of a client address (a unix socket's has no port)."""
    return address[0] if isinstance(address, tuple) else str(address)


def _address(conn: TConn) -> str:
    """Return the client address of a connection (its host, not its port)."""
    return _host(conn.client)


def error_response(status: int, message: str, rid: str) -> bytes:
    """Return a whole HTTP response: the project's JSON error body, security headers, the
    request id `rid` (as every answer of the app carries one), close."""
    reason = HTTP_STATUS_CODES.get(status, "Error")
    body = json.dumps({"error": {"code": error_code(reason), "message": message}}).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)),
               "Connection": "close", REQUEST_ID_HEADER: rid, **SECURITY_HEADERS}
    if status in (429, 503):  # a full server or a client's cap: free again soon
        headers["Retry-After"] = str(RETRY_AFTER)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"HTTP/1.1 {status} {reason}\r\n{head}\r\n".encode("latin-1") + body


def buffered_worker(limits: Limits, client_connections: int = 0) -> type[ThreadWorker]:
    """Return the worker class, with the request limits the server was started with and
    the connections one client address may hold (0: no cap)."""

    return type("BufferedWorker", (BufferedWorker,),
                {"limits": limits, "client_connections": client_connections})


class BufferedWorker(ThreadWorker):
    """Read each request whole in the event loop; run the app on a thread once it is."""

    limits: Limits
    client_connections: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading: dict[TConn, float] = {}  # connection -> when it is given up
        self.lingering: set[TConn] = set()  # answered or refused, closing by LINGER
        self.admission = Admission(self.worker_connections, self.client_connections)
        self.refused_new: Counter[str] = Counter()  # reason -> connections, since logged
        self.paused_until = 0.0  # out of file descriptors: no accepting until then
        self.stopping_seen = False

    # The event loop (main thread) ---------------------------------------------------

    def set_accept_enabled(self, enabled) -> None:
        """Accept while alive, even when full: what has no room is refused at once (503,
        or 429 past a client's cap), not left in the kernel's queue until a slot frees
        (issue 26), as gunicorn does when it stops accepting at worker_connections."""
        super().set_accept_enabled(self.alive and time.monotonic() >= self.paused_until)

    def accept(self, listener) -> None:
        """Take the connections `listener` has ready, ACCEPT_BATCH at most."""
        for _ in range(ACCEPT_BATCH):
            if not self._accept_one(listener):
                return

    def _accept_one(self, listener) -> bool:
        """Take one connection from `listener`; say whether there was one."""
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno in _OUT_OF_FILES:  # the queue waits; room comes as others close
                self.log.warning("Cannot accept a connection (%s): pausing %g s",
                                 exc.strerror, EMFILE_PAUSE)
                self.paused_until = time.monotonic() + EMFILE_PAUSE
                self.set_accept_enabled(False)
                return False
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return exc.errno == errno.ECONNABORTED  # that one left; others may wait
        # Judged before it counts: a worker of 1,000 connections takes a 1,000th.
        host = _host(address)
        refusal = self.admission.refusal(host, self._open())
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
        self.admission.opened(host)
        if refusal and self.alive:
            # Answered before its request is read: its client reads the answer when it
            # has sent it; logged once a turn of the loop, as a flood would be a line each.
            self.refused_new[refusal.reason] += 1
            self._answer(conn, refusal.status, refusal.message, incoming_id(None))
            return True
        # Taken while stopping (_drain_backlog): its request had STOP_LINGER to arrive.
        self._read_next(conn, b"", self.limits.timeout if self.alive else STOP_LINGER)
        return True

    def _open(self) -> int:
        """Return the connections open but for those answered and closing."""
        return self.nr_conns - len(self.lingering)

    def _drain_backlog(self) -> None:
        """Take every connection the kernel has already queued for this worker's listeners.

        Their clients connected, and may have sent a whole request, before the stop: left
        in the queue they are reset when the listeners close (issue 26: 3 of 40 POSTs
        sent 30 ms before SIGTERM). Taken now, each is read and answered with
        `Connection: close` within STOP_LINGER, like any connection open at the stop.
        """
        taken = 0
        for listener in self.sockets:
            while self._accept_one(listener):
                taken += 1
        if taken:
            self.log.info("Stopping: took %d queued connection(s) to answer", taken)

    def _read_next(self, conn: TConn, data: bytes, idle: float) -> None:
        """Wait for the connection's next request; `data` is what already came of it."""
        conn.inbox, conn.continued = bytearray(data), False
        conn.scanner = Scanner(self.limits)  # remembers how far it judged conn.inbox
        conn.initialized, conn.data_ready = True, True  # gthread's own reading is skipped
        self.reading[conn] = time.monotonic() + (self.limits.timeout if data else idle)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self._on_readable, conn))
        if data:
            self._judge(conn)

    def _on_readable(self, conn: TConn, _sock) -> None:
        chunk = _receive(conn)
        if chunk is None:
            return
        if not chunk:  # the client left; a request it did not finish is not answered
            self._stop_reading(conn)
            self._close(conn)
            return
        if not conn.inbox:  # the request's clock starts with its first byte
            self.reading[conn] = time.monotonic() + self.limits.timeout
        conn.inbox += chunk
        self._judge(conn)

    def _judge(self, conn: TConn) -> None:
        verdict = conn.scanner.scan(conn.inbox)  # no copy: the inbox only grows
        if verdict.state is State.MORE:
            if verdict.expects_continue and not conn.continued:
                conn.continued = True
                self._send_now(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self._stop_reading(conn)
        if verdict.state is State.READY:
            conn.parser = RequestParser(self.cfg, iter([bytes(conn.inbox)]), conn.client)
            conn.inbox = bytearray()
            self.enqueue_req(conn)
        elif verdict.state is State.BODY_TOO_LARGE:
            self._refuse(conn, 413, f"the request body is larger than the limit of "
                                    f"{conn.scanner.max_body} bytes")
        else:
            self._refuse(conn, 431, f"the request line and headers are larger than the "
                                    f"limit of {self.limits.max_head} bytes")

    def _refuse(self, conn: TConn, status: int, message: str) -> None:
        """Answer an error without a thread, then close once the client stops sending."""
        # A new id: the request was never read whole, so it has none of its own to echo;
        # the log line names it, so that a client's report of it can be found.
        rid = incoming_id(None)
        self.log.info("Refused a request from %s: %s %s (request id %s)", conn.client[0],
                      status, message, rid)
        self._answer(conn, status, message, rid)

    def _answer(self, conn: TConn, status: int, message: str, rid: str) -> None:
        self._send_now(conn, error_response(status, message, rid))
        self._linger(conn)

    def _linger(self, conn: TConn) -> None:
        """Close after the answer: at once on our side, on theirs once they stop sending."""
        # gunicorn's close_graceful does this with a blocking read, which would hold up the
        # event loop (every connection of the worker) for a client that never closes.
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        self.reading[conn] = time.monotonic() + LINGER
        if conn not in self.lingering:  # answered: no longer held against its client
            self.lingering.add(conn)
            self.admission.closed(_address(conn))
        conn.inbox = None  # discarding from now on
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_drain, conn))

    def _on_drain(self, conn: TConn, _sock) -> None:
        chunk = _receive(conn)
        if chunk is None:
            return
        if not chunk:
            self._stop_reading(conn)
            self._close(conn)

    def _send_now(self, conn: TConn, data: bytes) -> None:
        # Short answers fit in the socket's send buffer: this never waits on the client.
        try:
            conn.sock.send(data)
        except OSError:
            pass

    def _stop_reading(self, conn: TConn) -> None:
        self.reading.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close(self, conn: TConn) -> None:
        self.nr_conns -= 1
        if conn in self.lingering:
            self.lingering.discard(conn)
        else:
            self.admission.closed(_address(conn))
        conn.close()

    def _make_room(self) -> None:
        """When the worker is nearly full, close idle connections and refuse half-sent
        requests as admission.Admission.room picks them."""
        # Connections refused and lingering close within LINGER by themselves: counting
        # them would take more connections of other clients meanwhile.
        room = self.admission.room((c for c in self.reading if c.inbox is not None),
                                   self._open(), _address, lambda c: bool(c.inbox))
        # Bytes may have come since the last read (a batch just accepted has not been
        # read at all): such a connection is not idle, and closing it would reset it.
        closed = [c for c in room.close if not _pending(c)]
        for conn in closed:
            self._stop_reading(conn)
            self._close(conn)
        for conn in room.refuse:
            self._stop_reading(conn)
            self._refuse(conn, 503, "too many connections from this client; the server "
                                    "is full: send whole requests on fewer connections")
        if closed:  # full of requests being answered: nothing to say
            self.log.info("Full: closed %d idle connection(s) of %d", len(closed),
                          len(closed) + self.nr_conns)
        if room.refuse:
            self.log.info("Full: refused %d slow connection(s) of the clients holding most",
                          len(room.refuse))

    def _count_refused_new(self) -> None:
        """Log and count the connections refused at accept since the last turn."""
        if not self.refused_new:
            return
        self.log.info("Refused %d new connection(s) at once: %s",
                      sum(self.refused_new.values()),
                      ", ".join(f"{n} {reason}" for reason, n in sorted(self.refused_new.items())))
        refused = metrics().connections_refused
        for reason, n in self.refused_new.items():
            refused.labels(reason).inc(n)
        self.refused_new.clear()

    def murder_pending(self):
        """Give up connections past their time: idle, too slow to send a request, refused;
        and idle ones early when the worker is nearly full."""
        super().murder_pending()
        self._make_room()
        self._count_refused_new()
        self.set_accept_enabled(True)  # after a pause for file descriptors
        now = time.monotonic()
        if not self.alive and not self.stopping_seen:
            # Stopping: a request on its way gets a moment to arrive, not the whole
            # request_timeout (the stop would wait for the slowest client).
            self.stopping_seen = True
            for conn in self.reading:
                self.reading[conn] = min(self.reading[conn], now + STOP_LINGER)
            self._drain_backlog()  # after the cap: their own clock starts now
        for conn, deadline in list(self.reading.items()):
            if deadline > now:
                continue
            self._stop_reading(conn)
            if conn.inbox:  # part of a request came, the rest too slowly
                self._refuse(conn, 408, f"the request was not received whole within "
                                        f"{self.limits.timeout:g} seconds")
            else:
                self._close(conn)

    def finish_request(self, conn, fs):
        """Take a connection back from its thread: read its next request, or close it."""
        try:
            keep = fs.result() if not fs.cancelled() else False
        except Exception:
            keep = False
        if not keep:
            self._linger(conn)
            return
        try:
            # What the client sent after the request (pipelining) starts the next one.
            unreader = conn.parser.unreader
            rest = unreader.take_buffered() + b"".join(unreader.iter or ())
            conn.sock.setblocking(False)
            self._read_next(conn, rest, self.cfg.keepalive if self.alive else STOP_LINGER)
        except Exception:
            self._stop_reading(conn)
            self._close(conn)

    # A request thread ----------------------------------------------------------------

    def handle_request(self, req, conn):
        # The whole request is in memory: a thread never waits on the client to read it,
        # and the body is checked here so that a malformed chunk is a 400, not the app's
        # error.
        req._expected_100_continue = False  # answered by the event loop, if at all
        body = req.body.read() if req.body is not None else b""
        req.body = Body(LengthReader(IterUnreader([body]), len(body)))
        # Writing waits on the client too: bounded, for one that never reads its answer.
        conn.sock.settimeout(self.limits.timeout)
        return super().handle_request(req, conn)

    def handle_error(self, req, client, addr, exc):
        """Answer what the parser refused with the project's JSON error, not gunicorn's HTML."""
        rid = incoming_id(None)  # as in _refuse: the request was not read, so a new id
        if isinstance(exc, http_errors.ParseException) and not isinstance(
                exc, (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName,
                      http_errors.ConfigurationProblem)):
            status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 400)
            message = str(exc)
            self.log.info("Refused a request from %s: %s %s (request id %s)",
                          (addr or ("",))[0], status, message, rid)
        else:
            status, message = 500, "internal error"
            self.log.exception("Error handling request (request id %s)", rid)
        try:
            client.settimeout(self.limits.timeout)
            client.sendall(error_response(status, message, rid))
        except OSError:
            self.log.debug("Failed to send the error answer")


def _pending(conn: TConn) -> bool:
    """Say whether the client sent bytes not read yet."""
    try:
        return bool(conn.sock.recv(1, socket.MSG_PEEK))  # the socket does not block
    except OSError:  # none yet (BlockingIOError), or the connection failed
        return False


def _receive(conn: TConn) -> bytes | None:
    """Return what the client sent (b"": it left or the socket failed), or None to wait."""
    try:
        return conn.sock.recv(RECV_BYTES)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""
