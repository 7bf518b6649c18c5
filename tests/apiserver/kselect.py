"""Label and field selectors with the grammar and error texts of k8s.io/apimachinery.

Label: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not exist),
requirements joined by commas (AND). Field: `path=value`, `path==value`, `path!=value`.
"""

import re


class SelectorError(Exception):
    """Bad selector syntax; the message is what the real server puts in its 400 Status."""


_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _split_top(text):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _check_key(key, whole):
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise SelectorError("unable to parse requirement: %s: Invalid value: %r: name part must "
                            "consist of alphanumeric characters, '-', '_' or '.'" % (whole, key))


def _check_value(v, whole):
    if len(v) > 63 or not _VALUE.match(v):
        raise SelectorError("unable to parse requirement: values[0][%s]: Invalid value: %r: a "
                            "valid label must be an empty string or consist of alphanumeric "
                            "characters, '-', '_' or '.'" % (whole, v))


def parse_labels(text):
    """A list of (key, op, values) tuples; op in =, !=, in, notin, exists, !exists."""
    reqs = []
    text = (text or "").strip()
    if not text:
        return reqs
    for part in _split_top(text):
        p = part.strip()
        if not p:
            raise SelectorError("found '', expected: identifier")
        m = re.match(r"^(\S+)\s+(in|notin)\s*\((.*)\)$", p)
        if m:
            key, op, vals = m.group(1), m.group(2), [v.strip() for v in m.group(3).split(",")]
            _check_key(key, key)
            for v in vals:
                _check_value(v, key)
            reqs.append((key, op, vals))
            continue
        if p.startswith("!"):
            key = p[1:].strip()
            _check_key(key, p)
            reqs.append((key, "!exists", []))
            continue
        m = re.match(r"^([^=!\s]+)\s*(==|=|!=)\s*(.*)$", p)
        if m:
            key, op, val = m.group(1), m.group(2), m.group(3).strip()
            _check_key(key, key)
            _check_value(val, key)
            reqs.append((key, "!=" if op == "!=" else "=", [val]))
            continue
        if re.match(r"^\S+$", p) and "(" not in p and ")" not in p:
            _check_key(p, p)
            reqs.append((p, "exists", []))
            continue
        raise SelectorError("unable to parse requirement: found '%s', expected: "
                            "in, notin, =, ==, !=, gt, lt" % p)
    return reqs


def match_labels(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and (not has or v != vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and (not has or v not in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
    return True


def parse_fields(text, allowed):
    """A list of (path, op, value); raises SelectorError for fields the resource does not index."""
    reqs = []
    text = (text or "").strip()
    if not text:
        return reqs
    for part in text.split(","):
        m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (text, part))
        path, op, val = m.group(1), m.group(2), m.group(3)
        if path not in allowed:
            raise SelectorError('field label not supported: %s' % path)
        reqs.append((path, "!=" if op == "!=" else "=", val))
    return reqs


def field_value(obj, path):
    """The string form of a dotted path, as the real field indexers render it ("" when unset)."""
    cur = obj
    for seg in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(seg)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def match_fields(reqs, obj):
    for path, op, val in reqs:
        got = field_value(obj, path)
        if op == "=" and got != val:
            return False
        if op == "!=" and got == val:
            return False
    return True
