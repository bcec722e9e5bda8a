"""A small HTTP load client: virtual users on threads, each with its own cookies.

Used by `web_load.py`; standard library only (`http.client`, `html.parser`), so that the
client stays light next to the server it measures on the same machine.

- `VirtualUser` sends requests over `http.client` with its own cookie jar, reconnecting
  when the server closes the connection (gunicorn's sync workers close after every
  response), and records one `Sample` per request: what, status, latency, error.
- A request is an error when it raised (connection refused, timeout, ...), when its
  status is not 2xx or 3xx, or when it is not the status the scenario expects (a login
  page instead of the caseload is a failure, not a success).
- `parse_form` reads a page's POST form (hidden inputs such as the CSRF token, sliders,
  radio groups, text areas) and `fill_form` answers it the way a person would.
- `run_users` runs one step function per user on threads until a deadline or until a
  shared request budget is spent, and `summarise` turns the samples into requests,
  throughput, percentiles and error counts.
"""

from __future__ import annotations

import http.client
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TIMEOUT_SECONDS = 30.0


# --------------------------------------------------------------------------- samples

@dataclass(frozen=True)
class Sample:
    """One request: what it was, when it started (perf_counter), how long it took."""

    kind: str
    started: float
    latency_ms: float
    status: int | None       # None when the request raised
    error: str | None = None  # why it counts as an error; None for a success

    @property
    def failed(self) -> bool:
        return self.error is not None


def classify(status: int | None, expected: int | Sequence[int] | None = None,
             exception: BaseException | None = None) -> str | None:
    """Why a response counts as an error, or None when it is a success.

    Errors: an exception; a status outside 200–399; a status other than `expected`
    (one status or several) when given.
    """
    if exception is not None:
        return type(exception).__name__
    if status is None:
        return "no response"
    if not 200 <= status < 400:
        return f"HTTP {status}"
    if expected is not None:
        allowed = (expected,) if isinstance(expected, int) else tuple(expected)
        if status not in allowed:
            return f"HTTP {status}, expected {'/'.join(map(str, allowed))}"
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between order statistics.

    The same definition as numpy's default (`method="linear"`): position
    (n − 1)·q/100 in the sorted values. NaN for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0–100")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    """Requests, errors and latency of a set of samples over `seconds` of wall time."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self) -> dict:
        return {"requests": self.requests, "errors": self.errors,
                "seconds": round(self.seconds, 3),
                "throughput_per_s": round(self.throughput, 2),
                "p50_ms": round(self.p50_ms, 2), "p95_ms": round(self.p95_ms, 2),
                "p99_ms": round(self.p99_ms, 2), "mean_ms": round(self.mean_ms, 2),
                "max_ms": round(self.max_ms, 2), "error_kinds": dict(self.error_kinds)}


def summarise(samples: Sequence[Sample], seconds: float) -> Summary:
    """Counts and latency percentiles of all samples (errors included in the latencies)."""
    latencies = [s.latency_ms for s in samples]
    kinds = Counter(s.error for s in samples if s.failed)
    return Summary(requests=len(samples), errors=sum(kinds.values()), seconds=seconds,
                   p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95),
                   p99_ms=percentile(latencies, 99),
                   mean_ms=sum(latencies) / len(latencies) if latencies else math.nan,
                   max_ms=max(latencies) if latencies else math.nan,
                   error_kinds=dict(kinds.most_common()))


def summarise_by_kind(samples: Sequence[Sample], seconds: float) -> dict[str, Summary]:
    kinds = sorted({s.kind for s in samples})
    return {kind: summarise([s for s in samples if s.kind == kind], seconds) for kind in kinds}


# --------------------------------------------------------------------------- HTTP

@dataclass(frozen=True)
class Response:
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str | None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("location", "")).path


class VirtualUser:
    """One simulated person: a connection, a cookie jar and the samples of their requests.

    Not thread-safe: each thread drives its own user.
    """

    def __init__(self, host: str, port: int, *, name: str = "user",
                 timeout: float = TIMEOUT_SECONDS, record: bool = True):
        self.host = host
        self.port = port
        self.name = name
        self.timeout = timeout
        self.record = record
        self.cookies: dict[str, str] = {}
        self.samples: list[Sample] = []
        self.state: dict = {}  # scenario data (e.g. the link being answered)
        self._connection: http.client.HTTPConnection | None = None
        self._source: str | None = None

    def come_from(self, address: str | None) -> None:
        """Send the next requests from this local address (a new connection), e.g. 127.1.0.7.

        On loopback every 127.x.y.z address is this machine, so users can stand for
        different people's devices to the server's per-address limits.
        """
        if address != self._source:
            self.close()
            self.cookies.clear()
            self._source = address

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _store_cookies(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            jar = SimpleCookie()
            jar.load(value)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel.value == "" and morsel["expires"]):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    def request(self, kind: str, method: str, path: str, *, data: dict | None = None,
                expect: int | Sequence[int] | None = None,
                redirect_to: str | None = None) -> Response:
        """Send one request and record its sample under `kind`.

        `data` is sent form-encoded (with the Origin header a browser sends). The latency
        runs from before connecting to after the whole body arrived. `redirect_to`: the
        path a redirect must lead to (a redirect elsewhere is an error).
        """
        headers = {"Accept": "text/html", "User-Agent": "alliance-load/1"}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout,
                    source_address=(self._source, 0) if self._source else None)
            self._connection.request(method, path, body=body, headers=headers)
            reply = self._connection.getresponse()
            content = reply.read()
            header_list = reply.getheaders()
            if reply.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            latency = (time.perf_counter() - started) * 1000
            self.close()
            error = classify(None, expect, exc)
            if self.record:
                self.samples.append(Sample(kind, started, latency, None, error))
            return Response(None, {}, b"", error)
        latency = (time.perf_counter() - started) * 1000
        self._store_cookies(header_list)
        error = classify(reply.status, expect)
        if error is None and redirect_to is not None and 300 <= reply.status < 400:
            target = urlsplit(reply.getheader("Location") or "").path
            if target != redirect_to:
                error = f"redirected to {target or 'nowhere'}"
        if self.record:
            self.samples.append(Sample(kind, started, latency, reply.status, error))
        return Response(reply.status, {k.lower(): v for k, v in header_list}, content, error)

    def get(self, kind: str, path: str, *, expect=200) -> Response:
        return self.request(kind, "GET", path, expect=expect)

    def post(self, kind: str, path: str, data: dict, *, expect=302,
             redirect_to: str | None = None) -> Response:
        return self.request(kind, "POST", path, data=data, expect=expect,
                            redirect_to=redirect_to)


# --------------------------------------------------------------------------- forms

@dataclass
class FormField:
    name: str
    kind: str                      # hidden, range, radio, textarea, text, email, password, ...
    value: str = ""
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None
    choices: list[str] = field(default_factory=list)   # radio values
    required: bool = False


@dataclass
class ParsedForm:
    action: str | None
    fields: dict[str, FormField]

    @property
    def hidden(self) -> dict[str, str]:
        return {f.name: f.value for f in self.fields.values() if f.kind == "hidden"}


class _FormParser(HTMLParser):
    """The first form with method="post" on a page, leaving out the language switcher in
    the header of client pages."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.form: ParsedForm | None = None
        self._inside = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        a = dict(attrs)
        if (tag == "form" and (a.get("method") or "get").lower() == "post" and not self._inside
                and "language-switcher" not in (a.get("class") or "").split()):
            self._inside = True
            self.form = ParsedForm(action=a.get("action"), fields={})
            return
        if not self._inside or "name" not in a:
            return
        name = a["name"]
        fields = self.form.fields
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                return
            if kind in ("radio", "checkbox"):
                entry = fields.setdefault(name, FormField(name, kind))
                entry.choices.append(a.get("value", "on"))
                if "checked" in a:
                    entry.value = a.get("value", "on")
                entry.required = entry.required or "required" in a
                return
            fields[name] = FormField(name, kind, a.get("value") or "", a.get("min"),
                                     a.get("max"), a.get("step"), required="required" in a)
        elif tag in ("textarea", "select"):
            fields[name] = FormField(name, tag, "", required="required" in a)

    def handle_endtag(self, tag):
        if tag == "form" and self._inside:
            self._inside = False
            self._done = True


def parse_form(html: str) -> ParsedForm:
    """The page's POST form; raises ValueError when there is none."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    if parser.form is None:
        raise ValueError("no POST form on the page")
    return parser.form


def _scale_points(entry: FormField) -> list[str]:
    try:
        low = Decimal(entry.minimum or "0")
        high = Decimal(entry.maximum or "100")
        step = Decimal(entry.step or "1")
    except InvalidOperation:
        return [entry.value]
    if step <= 0 or high < low:
        return [entry.value]
    count = int((high - low) / step)
    # "2", "0.5": the way the page writes numbers (Decimal("2.0") would give "2.0")
    return [format((low + step * i).normalize(), "f") for i in range(count + 1)]


OPEN_ANSWERS = ("Today felt useful.", "I was not sure what we were working on.",
                "Thank you, it helps to talk about this.")


def fill_form(form: ParsedForm, rng: random.Random, *, answer_open: float = 0.3) -> dict:
    """Answers a person could give: hidden values kept, a point of every slider's scale,
    one option of every radio group, and now and then (`answer_open`) a short open answer
    (always when the question is required)."""
    data: dict[str, str] = {}
    for entry in form.fields.values():
        if entry.kind == "hidden":
            data[entry.name] = entry.value
        elif entry.kind == "range":
            data[entry.name] = rng.choice(_scale_points(entry))
        elif entry.kind == "radio":
            data[entry.name] = rng.choice(entry.choices)
        elif entry.kind == "textarea":
            if entry.required or rng.random() < answer_open:
                data[entry.name] = rng.choice(OPEN_ANSWERS)
            else:
                data[entry.name] = ""
        elif entry.value:
            data[entry.name] = entry.value
    return data


# --------------------------------------------------------------------------- running

class Budget:
    """A shared number of requests that the users draw from (thread-safe)."""

    def __init__(self, requests: int):
        self._left = requests
        self._lock = threading.Lock()

    def take(self, requests: int) -> bool:
        with self._lock:
            if self._left < requests:
                return False
            self._left -= requests
            return True


@dataclass(frozen=True)
class Run:
    samples: list[Sample]
    seconds: float                  # wall time from the start signal to the last user done
    client_cpu_seconds: float       # CPU time this (client) process used meanwhile
    failures: list[str]             # exceptions raised by step functions (bugs, not HTTP)


Step = Callable[[VirtualUser], bool]


def run_users(users: Sequence[tuple[VirtualUser, Step, int]], *, seconds: float,
              max_requests: int, think: float = 0.0, seed: int = 0) -> Run:
    """Run every user's step on its own thread until `seconds` pass or the budget is spent.

    Each entry is (user, step, requests per step). A step returns False when it has no
    more work (e.g. no check-in link left). Requests in flight at the deadline complete
    and are counted. `think`: the mean pause (exponential) of a user between two steps,
    and before the first, in seconds; 0 runs a closed loop without pauses, every user
    starting at once.
    """
    budget = Budget(max_requests)
    start = threading.Barrier(len(users) + 1)
    failures: list[str] = []
    deadline = [0.0]

    def pause(pauses: random.Random) -> None:
        seconds = min(pauses.expovariate(1 / think), deadline[0] - time.perf_counter())
        if seconds > 0:
            time.sleep(seconds)

    def work(user: VirtualUser, step: Step, cost: int, pauses: random.Random) -> None:
        start.wait()
        try:
            if think > 0:
                # Users who pause between actions also begin at random moments: starting
                # all of them in the same millisecond would time a burst no clinic sees.
                pause(pauses)
            while time.perf_counter() < deadline[0] and budget.take(cost):
                if not step(user):
                    break
                if think > 0:
                    pause(pauses)
        except Exception as exc:  # noqa: BLE001 - a bug in a scenario: stop, report it
            failures.append(f"{user.name}: {type(exc).__name__}: {exc}")
        finally:
            user.close()

    threads = [threading.Thread(target=work, args=(*entry, random.Random(seed * 7919 + i)),
                                name=entry[0].name, daemon=True)
               for i, entry in enumerate(users)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    samples = sorted((s for user, _, _ in users for s in user.samples), key=lambda s: s.started)
    for user, _, _ in users:
        user.samples.clear()
    return Run(samples, elapsed, time.process_time() - cpu, failures)
