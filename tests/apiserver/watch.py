"""WATCH: a chunked stream of {"type","object"} lines, as kube-apiserver sends for JSON.

Without resourceVersion (or with "0") the stream starts with ADDED for every current object;
with resourceVersion=N it replays the events after N from a bounded history and answers an
ERROR event with a 410 Expired Status when N is older than that history, like the real server.
The stream ends after timeoutSeconds (default 300) or when the client goes away.
"""

import time

import tables
from store import ApiError, dumps


def _chunk(h, data):
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def serve_watch(h, store, res, ns, name, query, match):
    try:
        timeout = min(int(query.get("timeoutSeconds") or 300), 3600)
    except ValueError:
        raise ApiError(400, "BadRequest", "timeoutSeconds: invalid value")
    rv_param = query.get("resourceVersion", "")
    try:
        since = int(rv_param) if rv_param not in ("", "0") else None
    except ValueError:
        raise ApiError(400, "BadRequest", "resourceVersion: invalid value %r" % rv_param)

    def wanted(obj):
        m = obj.get("metadata") or {}
        if res.namespaced and ns is not None and m.get("namespace") != ns:
            return False
        if name and m.get("name") != name:
            return False
        return match(obj)

    def line(etype, e):
        if h.fmt == "table":
            # kubectl get -w asks for Table: each event carries a one-row Table.
            obj = dumps(tables.table(res, [e], store.now(), {"resourceVersion": str(e.rv)},
                                     query.get("includeObject", "Metadata")))
        else:
            obj = e.full(res)
        return b'{"type":"%s","object":%s}\n' % (etype.encode(), obj)

    with store.lock:
        first = []
        if since is None:
            t = store.tables[res.key]
            first = [line("ADDED", t.by_key[k]) for k in t.keys if wanted(t.by_key[k].obj)]
            since = store.rv
        else:
            oldest = store.events[0][0] if store.events else store.rv + 1
            if since < oldest - 1 and since < store.rv:
                err = ApiError(410, "Expired", "too old resource version: %d (%d)" %
                               (since, oldest - 1))
                first = [b'{"type":"ERROR","object":%s}\n' % dumps(err.body())]
                since = None
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.send_header("Cache-Control", "no-cache, private")
    h.end_headers()
    h.code = 200
    try:
        for ln in first:
            _chunk(h, ln)
        deadline = time.time() + timeout
        while since is not None and time.time() < deadline:
            out = []
            with store.cond:
                if not store.events or store.events[-1][0] <= since:
                    store.cond.wait(min(1.0, max(0.0, deadline - time.time())))
                for rv, etype, key, _ns, e in list(store.events):
                    if rv <= since:
                        continue
                    since = rv
                    if key == res.key and wanted(e.obj):
                        out.append(line(etype, e))
            for ln in out:
                _chunk(h, ln)
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
    except (BrokenPipeError, ConnectionResetError, OSError):
        h.close_connection = True
