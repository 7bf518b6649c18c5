#!/usr/bin/python3
"""Unit tests of the stand-in's parsers (selectors, patches, placeholders, continue tokens).

Run: /usr/bin/python3 tests/apiserver/test_units.py   (tests/t_apiserver.sh runs it too)
The protocol as a whole is judged by the real kubectl and helm in tests/t_apiserver.sh.
"""

import datetime
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kselect  # noqa: E402
import patch  # noqa: E402
import standin  # noqa: E402
import store  # noqa: E402
from faults import Faults  # noqa: E402


class Selectors(unittest.TestCase):
    LABELS = {"app": "web", "tier": "front", "owner": "helm"}

    def match(self, text):
        return kselect.match_labels(kselect.parse_labels(text), self.LABELS)

    def test_label_ops(self):
        cases = [("app=web", True), ("app==web", True), ("app!=web", False), ("app!=db", True),
                 ("app in (db, web)", True), ("app notin (web)", False), ("tier", True),
                 ("!tier", False), ("!missing", True), ("missing", False),
                 ("app=web,tier=front", True), ("app=web,tier=back", False),
                 ("missing!=x", True), ("missing notin (x)", True), ("missing in (x)", False),
                 ("", True)]
        for text, want in cases:
            self.assertEqual(self.match(text), want, text)

    def test_label_errors(self):
        for bad in ("app=we b", "a,,b", "app in (x", "=x", "app=" + "x" * 64):
            with self.assertRaises(kselect.SelectorError, msg=bad):
                kselect.parse_labels(bad)

    def test_fields(self):
        obj = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"},
               "status": {"phase": "Running"}}
        allowed = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"]
        reqs = kselect.parse_fields("spec.nodeName=n1,status.phase!=Failed", allowed)
        self.assertTrue(kselect.match_fields(reqs, obj))
        reqs = kselect.parse_fields("spec.nodeName==n2", allowed)
        self.assertFalse(kselect.match_fields(reqs, obj))
        with self.assertRaisesRegex(kselect.SelectorError, "field label not supported: x.y"):
            kselect.parse_fields("x.y=1", allowed)


class Patches(unittest.TestCase):
    BASE = {"metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {"containers": [{"name": "c1", "image": "i1"}, {"name": "c2", "image": "i2"}],
                     "finalizers": ["f1"]}}

    def test_merge(self):
        got = patch.merge_patch(self.BASE, {"metadata": {"labels": {"a": None, "c": "3"}},
                                            "spec": {"containers": [{"name": "x"}]}})
        self.assertEqual(got["metadata"]["labels"], {"b": "2", "c": "3"})
        self.assertEqual(got["spec"]["containers"], [{"name": "x"}])

    def test_strategic(self):
        got = patch.strategic_merge_patch(self.BASE, {
            "spec": {"containers": [{"name": "c2", "image": "new"}, {"name": "c3", "image": "i3"},
                                    {"name": "c1", "$patch": "delete"}],
                     "$setElementOrder/containers": [{"name": "c2"}, {"name": "c3"}]}})
        self.assertEqual(got["spec"]["containers"],
                         [{"name": "c2", "image": "new"}, {"name": "c3", "image": "i3"}])
        got = patch.strategic_merge_patch(self.BASE, {"metadata": {"labels": {"$patch": "replace",
                                                                              "z": "9"}}})
        self.assertEqual(got["metadata"]["labels"], {"z": "9"})
        self.assertEqual(self.BASE["metadata"]["labels"], {"a": "1", "b": "2"})

    def test_json_patch(self):
        got = patch.json_patch(self.BASE, [
            {"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "i9"},
            {"op": "remove", "path": "/spec/containers/1"},
            {"op": "add", "path": "/spec/finalizers/-", "value": "f2"},
            {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/c"},
            {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/d"},
            {"op": "add", "path": "/metadata/labels/a~1b", "value": "slash"},
            {"op": "test", "path": "/metadata/labels/c", "value": "1"}])
        self.assertEqual(got["metadata"], {"labels": {"a": "1", "c": "1", "d": "2", "a/b": "slash"},
                                           "annotations": {"k": "v"}})
        self.assertEqual(got["spec"]["containers"], [{"name": "c1", "image": "i9"}])
        self.assertEqual(got["spec"]["finalizers"], ["f1", "f2"])
        with self.assertRaises(patch.PatchError):
            patch.json_patch(self.BASE, [{"op": "test", "path": "/metadata/labels/a",
                                          "value": "2"}])
        with self.assertRaises(patch.PatchError):
            patch.json_patch(self.BASE, [{"op": "remove", "path": "/nope/x"}])


class Store(unittest.TestCase):
    NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

    def test_placeholders(self):
        text = "a: '{{now}}'\nb: '{{now+2h}}'\nc: '{{ now-1d+30m }}'\nd: '{{now-2w}}'"
        self.assertEqual(store.expand_placeholders(text, self.NOW),
                         "a: '2026-01-02T03:04:05Z'\nb: '2026-01-02T05:04:05Z'\n"
                         "c: '2026-01-01T03:34:05Z'\nd: '2025-12-19T03:04:05Z'")
        self.assertEqual(store.expand_vars("x: {{var:CA}}", {"CA": "abc"}, "f"), "x: abc")
        with self.assertRaisesRegex(ValueError, "f: {{var:NOPE}} is not set"):
            store.expand_vars("{{var:NOPE}}", {}, "f")

    def test_continue_token(self):
        tok = store.encode_continue(42, "kube-system/x")
        self.assertEqual(store.decode_continue(tok), (42, "kube-system/x\x00"))
        for bad in ("!!!", "e30", "bm90IGpzb24"):
            with self.assertRaises(store.ApiError) as cm:
                store.decode_continue(bad)
            self.assertEqual(cm.exception.code, 400)

    def test_list_order_and_pages(self):
        from resources import BY_PATH
        s = store.Store(self.NOW)
        res = BY_PATH[("", "v1", "configmaps")]
        for ns in ("a", "a-b", "b"):
            for n in ("x", "y"):
                s.seed({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": n, "namespace": ns}})
        items, tok, remaining, _ = s.list(res, None, [], [], 4, "", None)
        # etcd's byte order: "a-b/..." sorts before "a/..." ('-' < '/')
        self.assertEqual([e.obj["metadata"]["namespace"] + "/" + e.obj["metadata"]["name"]
                          for e in items], ["a-b/x", "a-b/y", "a/x", "a/y"])
        self.assertEqual(remaining, 2)
        items, tok2, remaining, _ = s.list(res, None, [], [], 4, tok, None)
        self.assertEqual(len(items), 2)
        self.assertEqual((tok2, remaining), ("", None))
        items, _, _, _ = s.list(res, "a", [], [], 0, "", None)
        self.assertEqual([e.obj["metadata"]["name"] for e in items], ["x", "y"])


class LabelIndex(unittest.TestCase):
    def test_index_matches_scan(self):
        from resources import BY_PATH
        s = store.Store()
        res = BY_PATH[("", "v1", "secrets")]
        for i in range(400):
            labels = {"n": str(i % 7)}
            if i % 50 == 0:
                labels["owner"] = "helm"
            s.seed({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "s%03d" % i, "namespace": "ns%d" % (i % 3),
                                 "labels": labels}})
        # relabel and delete some, so the index has to follow updates
        s.update(res, "ns0", "s000", {"metadata": {"name": "s000", "labels": {"n": "x"}}})
        s.delete(res, "ns2", "s050")

        def page_all(ns, sel, limit):
            reqs = kselect.parse_labels(sel)
            names, tok = [], ""
            while True:
                items, tok, _, _ = s.list(
                    res, ns, reqs, [], limit, tok,
                    lambda o: kselect.match_labels(reqs, o["metadata"].get("labels")))
                names += [e.obj["metadata"]["name"] for e in items]
                if not tok:
                    return names

        for ns in (None, "ns1"):
            for sel in ("owner=helm", "owner=helm,n=1", "n=3", "n=x"):
                want = [e.obj["metadata"]["name"] for e in s.list(res, ns, [], [], 0, "", None)[0]
                        if kselect.match_labels(kselect.parse_labels(sel),
                                                e.obj["metadata"].get("labels"))]
                for limit in (0, 1, 3):
                    self.assertEqual(page_all(ns, sel, limit), want, (ns, sel, limit))


class Authorisation(unittest.TestCase):
    def test_deny_and_allow_file(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".rules", delete=False) as f:
            f.write("# who verb resource [namespace]\n"
                    "viewer get * \n"
                    "viewer list secrets default\n"
                    "group:ops * nodes/status\n")
        try:
            cfg = standin.Config(standin.parse_args(
                ["--allow-file", f.name, "--deny", "viewer:get:secrets:kube-system",
                 "--token", "t=alice:ops,dev"]))
        finally:
            os.unlink(f.name)
        self.assertEqual(cfg.tokens["t"], ("alice", ["ops", "dev"]))
        cases = [("viewer", [], "get", "nodes", None, True),
                 ("viewer", [], "get", "secrets", "kube-system", False),
                 ("viewer", [], "get", "secrets", "default", True),
                 ("viewer", [], "list", "secrets", "default", True),
                 ("viewer", [], "list", "secrets", "kube-system", False),
                 ("alice", ["ops"], "update", "nodes/status", None, True),
                 ("alice", ["ops"], "update", "nodes", None, False)]
        for user, groups, verb, res, ns, want in cases:
            self.assertEqual(cfg.allowed(user, groups, verb, res, ns), want,
                             (user, verb, res, ns))

    def test_bad_rule(self):
        with self.assertRaises(ValueError):
            standin.Rule("viewer:get", "--deny")


class FaultCounting(unittest.TestCase):
    def test_nth_counts_from_arming(self):
        f = Faults()
        f.on_write(False)
        f.arm({"fail_write": [2], "conflict_update": [1]})
        self.assertEqual([f.on_write(False), f.on_write(False), f.on_write(True),
                          f.on_write(True)], [None, "fail", "conflict", None])

    def test_rules(self):
        f = Faults()
        f.arm({"rules": [{"method": "put", "path": "cm$", "nth": 2, "times": 2, "code": 500}]})
        got = [f.on_request(m, p)[2] for m, p in
               [("PUT", "/cm"), ("GET", "/cm"), ("PUT", "/cm"), ("PUT", "/x"), ("PUT", "/cm"),
                ("PUT", "/cm")]]
        self.assertEqual(got, [None, None, 500, None, 500, None])
        with self.assertRaises(ValueError):
            f.arm({"rules": [{"path": "x"}]})


if __name__ == "__main__":
    unittest.main(verbosity=1)
