"""Fault injection: counters and the faults armed against them.

Every "Nth" counts from the moment the fault is armed (start-up for flags, the admin call for
/_standin/faults), 1-based, so `fail_write: [2]` fails the second write after arming.
"""

import re
import threading

KNOBS = {
    "fail_write": "list of N: answer 500 InternalError to the Nth write (POST/PUT/PATCH/DELETE)",
    "conflict_update": "list of N: answer 409 Conflict to the Nth update (PUT/PATCH)",
    "drop_request": "list of N: close the connection without an answer on the Nth request",
    "delay_ms": "delay every request this many milliseconds",
    "delay_paths": "{regex: ms}: delay requests whose path matches regex (first match wins)",
    "throttle_reads": "K: answer 429 TooManyRequests with Retry-After to the next K reads",
    "retry_after": "seconds for Retry-After and details.retryAfterSeconds (default 1)",
    "expire_continue": "true: the next LIST with a continue token answers 410 Expired",
    "rules": "[{method, path (regex), nth, times, code | drop | delay_ms}]: per-request rules; the "
             "nth..nth+times-1 requests matching METHOD (default any) and PATH get CODE (a Status "
             "with the real reason), a dropped connection, or a delay",
}

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}


class Rule:
    def __init__(self, d):
        if not isinstance(d, dict):
            raise ValueError("a rule is an object: {method, path, nth, times, code|drop|delay_ms}")
        unknown = set(d) - {"method", "path", "nth", "times", "code", "drop", "delay_ms"}
        if unknown:
            raise ValueError("unknown rule field(s): %s" % ", ".join(sorted(unknown)))
        self.method = str(d.get("method", "*")).upper()
        self.path = re.compile(d.get("path", ""))
        self.nth = int(d.get("nth", 1))
        self.times = int(d.get("times", 1))
        self.code = int(d["code"]) if "code" in d else None
        if self.code is not None and self.code not in REASONS:
            raise ValueError("rule code %d: use one of %s" % (self.code,
                                                            ", ".join(map(str, sorted(REASONS)))))
        self.drop = bool(d.get("drop", False))
        self.delay_ms = int(d.get("delay_ms", 0))
        if self.code is None and not self.drop and not self.delay_ms:
            raise ValueError("a rule needs code, drop or delay_ms")
        self.seen = 0
        self.fired = 0

    def state(self):
        return {"method": self.method, "path": self.path.pattern, "nth": self.nth,
                "times": self.times, "code": self.code, "drop": self.drop,
                "delay_ms": self.delay_ms, "seen": self.seen, "fired": self.fired}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"request": 0, "write": 0, "update": 0, "read": 0}
        self.reset()

    def reset(self):
        with self.lock:
            self.fail_write = set()
            self.conflict_update = set()
            self.drop_request = set()
            self.delay_ms = 0
            self.delay_paths = []
            self.throttle_left = 0
            self.retry_after = 1
            self.expire_continue = False
            self.rules = []
            self.fired = {"fail_write": 0, "conflict_update": 0, "drop_request": 0,
                          "throttle_reads": 0, "expire_continue": 0}

    def arm(self, spec):
        """Apply a dict of KNOBS (admin endpoint and flags). Raises ValueError on bad input."""
        with self.lock:
            for k, v in spec.items():
                if k == "fail_write":
                    self.fail_write |= {self.counts["write"] + int(n) for n in _ints(v)}
                elif k == "conflict_update":
                    self.conflict_update |= {self.counts["update"] + int(n) for n in _ints(v)}
                elif k == "drop_request":
                    self.drop_request |= {self.counts["request"] + int(n) for n in _ints(v)}
                elif k == "delay_ms":
                    self.delay_ms = int(v)
                elif k == "delay_paths":
                    if not isinstance(v, dict):
                        raise ValueError("delay_paths wants {regex: ms}")
                    self.delay_paths = [(re.compile(p), int(ms)) for p, ms in v.items()]
                elif k == "throttle_reads":
                    self.throttle_left = int(v)
                elif k == "retry_after":
                    self.retry_after = int(v)
                elif k == "expire_continue":
                    self.expire_continue = bool(v)
                elif k == "rules":
                    if not isinstance(v, list):
                        raise ValueError("rules wants a list")
                    self.rules.extend(Rule(r) for r in v)
                else:
                    raise ValueError("unknown fault %r (known: %s)" % (k, ", ".join(KNOBS)))

    def state(self):
        with self.lock:
            return {"counts": dict(self.counts), "fired": dict(self.fired),
                    "armed": {"fail_write": sorted(self.fail_write),
                              "conflict_update": sorted(self.conflict_update),
                              "drop_request": sorted(self.drop_request),
                              "delay_ms": self.delay_ms,
                              "delay_paths": {r.pattern: ms for r, ms in self.delay_paths},
                              "throttle_reads": self.throttle_left,
                              "retry_after": self.retry_after,
                              "expire_continue": self.expire_continue,
                              "rules": [r.state() for r in self.rules]}}

    def on_request(self, method, path):
        """(drop?, delay seconds, injected status code or None) for a new request."""
        with self.lock:
            self.counts["request"] += 1
            n = self.counts["request"]
            drop = n in self.drop_request
            if drop:
                self.drop_request.discard(n)
                self.fired["drop_request"] += 1
            ms = self.delay_ms
            for rx, pms in self.delay_paths:
                if rx.search(path):
                    ms = pms
                    break
            code = None
            for r in self.rules:
                if r.method not in ("*", method) or not r.path.search(path):
                    continue
                r.seen += 1
                if r.seen < r.nth or r.fired >= r.times:
                    continue
                r.fired += 1
                drop = drop or r.drop
                ms = max(ms, r.delay_ms)
                if r.code is not None and code is None:
                    code = r.code
            return drop, ms / 1000.0, code

    def on_read(self):
        """Retry-After seconds when this read is throttled, else None."""
        with self.lock:
            self.counts["read"] += 1
            if self.throttle_left > 0:
                self.throttle_left -= 1
                self.fired["throttle_reads"] += 1
                return self.retry_after
            return None

    def on_write(self, is_update):
        """'fail', 'conflict' or None for a write."""
        with self.lock:
            self.counts["write"] += 1
            w = self.counts["write"]
            u = None
            if is_update:
                self.counts["update"] += 1
                u = self.counts["update"]
            if w in self.fail_write:
                self.fail_write.discard(w)
                self.fired["fail_write"] += 1
                return "fail"
            if u is not None and u in self.conflict_update:
                self.conflict_update.discard(u)
                self.fired["conflict_update"] += 1
                return "conflict"
            return None

    def take_expire_continue(self):
        with self.lock:
            if self.expire_continue:
                self.expire_continue = False
                self.fired["expire_continue"] += 1
                return True
            return False


def _ints(v):
    if isinstance(v, (list, tuple, set)):
        return [int(x) for x in v]
    if isinstance(v, str):
        return [int(x) for x in v.split(",") if x.strip()]
    return [int(v)]
