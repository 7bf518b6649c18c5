#!/usr/bin/env python3
"""The same detection as `kubevet apis scan`, with PyYAML's C loader: the comparison point of
bench/bench_apis.sh. Prints finding counts per ID (KV401..KV404) for a target release.

Usage: pyyaml_scan.py CATALOG.yaml TARGET PATH...
"""
import os
import sys

import yaml

WORKLOAD = {'Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet'}
APPS = {'apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1'}


def minor(v):
    v = str(v).lstrip('v').split('-')[0].split('+')[0].split('.')
    return (int(v[0]), int(v[1]))


def load_catalog(path):
    cat = {}
    with open(path) as f:
        for r in yaml.load(f, Loader=yaml.CSafeLoader)['apis']:
            cat[(r['apiVersion'], r['kind'])] = r
    return cat


def selector_state(obj):
    spec = obj.get('spec')
    sel = spec.get('selector') if isinstance(spec, dict) else None
    if sel is None:
        return 'missing'
    if not isinstance(sel, dict):
        return 'empty'
    ml = sel.get('matchLabels') or {}
    me = sel.get('matchExpressions') or []
    if not ml and not me:
        return 'empty'
    tpl = spec.get('template') or {}
    labels = ((tpl.get('metadata') or {}).get('labels') or {}) if isinstance(tpl, dict) else {}
    for k, v in (ml.items() if isinstance(ml, dict) else []):
        if k not in labels or str(labels[k]) != str(v):
            return 'mismatch'
    for e in me:
        k, op, vals = e.get('key'), e.get('operator'), e.get('values') or []
        present = k in labels
        inv = present and labels[k] in vals
        bad = {'In': not inv, 'NotIn': inv, 'Exists': not present,
               'DoesNotExist': present}.get(op, True)
        if bad:
            return 'mismatch'
    return 'ok'


def visit(obj, cat, target, counts, depth=0):
    if not isinstance(obj, dict):
        return
    av, kind = obj.get('apiVersion'), obj.get('kind')
    row = cat.get((av, kind))
    if row:
        if row['removed-in'] and minor(row['removed-in']) <= target:
            counts['KV401'] += 1
        elif row['deprecated-in'] and minor(row['deprecated-in']) <= target:
            counts['KV402'] += 1
    if kind in WORKLOAD and av in APPS:
        if av == 'apps/v1' or (row and row['replacement'].split(' ')[0] == 'apps/v1'):
            s = selector_state(obj)
            if s in ('missing', 'empty'):
                counts['KV403'] += 1
            elif s == 'mismatch':
                counts['KV404'] += 1
    if isinstance(kind, str) and kind.endswith('List') and depth < 4:
        for it in obj.get('items') or []:
            visit(it, cat, target, counts, depth + 1)


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in sorted(names):
                    if n.lower().endswith(('.yaml', '.yml', '.json')):
                        yield os.path.join(root, n)
        else:
            yield p


def main():
    cat = load_catalog(sys.argv[1])
    target = minor(sys.argv[2])
    counts = {'KV401': 0, 'KV402': 0, 'KV403': 0, 'KV404': 0}
    errors = docs = 0
    for path in files(sys.argv[3:]):
        try:
            with open(path, 'rb') as f:
                for d in yaml.load_all(f, Loader=yaml.CSafeLoader):
                    docs += 1
                    visit(d, cat, target, counts)
        except yaml.YAMLError as e:
            errors += 1
            print(f'{path}: {str(e).splitlines()[0]}', file=sys.stderr)
    print(' '.join(f'{k}={v}' for k, v in counts.items()), f'documents={docs}', f'errors={errors}')


if __name__ == '__main__':
    main()
