#!/usr/bin/env python3
"""Generate a realistic manifest corpus for `kubevet apis scan` benchmarks.

Usage: gen_manifests.py OUTDIR [--files N] [--docs D] [--seed S]
About 10,000 files x 8 documents (~200+ MB) by default: mostly workloads (Deployments,
StatefulSets, DaemonSets with sizeable pod templates, so the selector rule has real work),
plus Services, ConfigMaps, Ingresses, CronJobs, HPAs, PDBs, RBAC; a share uses removed or
deprecated apiVersions, and some workloads have no selector or a mismatching one.
Deterministic for a given seed. No PyYAML needed.
"""
import os
import random
import sys

def arg(name, default):
    if name in sys.argv:
        return type(default)(sys.argv[sys.argv.index(name) + 1])
    return default

OUT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith('--') else 'bench-corpus'
NFILES = arg('--files', 10000)
NDOCS = arg('--docs', 8)
rnd = random.Random(arg('--seed', 42))

WORDS = ("api web cache db auth search billing cart queue worker gateway metrics logs "
         "frontend backend payments orders users inventory notify report").split()

def name():
    return '-'.join(rnd.sample(WORDS, 2)) + '-' + str(rnd.randint(1, 999))

def env_block(ind, n):
    out = [ind + 'env:']
    for i in range(n):
        out.append(f'{ind}- name: VAR_{i}_{rnd.choice(WORDS).upper()}')
        if rnd.random() < 0.3:
            out.append(f'{ind}  valueFrom:')
            out.append(f'{ind}    configMapKeyRef:')
            out.append(f'{ind}      name: {name()}')
            out.append(f'{ind}      key: key-{i}')
        else:
            out.append(f'{ind}  value: "{rnd.choice(WORDS)}-{rnd.randint(0, 99999)}"')
    return out

def container(ind, nm):
    out = [f'{ind}- name: {nm}',
           f'{ind}  image: registry.example.com/{nm}:{rnd.randint(1, 9)}.{rnd.randint(0, 30)}.{rnd.randint(0, 9)}',
           f'{ind}  imagePullPolicy: IfNotPresent',
           f'{ind}  args: ["--port=8080", "--log-level=info", "--name={nm}"]',
           f'{ind}  ports:',
           f'{ind}  - name: http',
           f'{ind}    containerPort: 8080',
           f'{ind}    protocol: TCP',
           f'{ind}  resources:',
           f'{ind}    limits: {{cpu: "{rnd.randint(1, 4)}", memory: {rnd.randint(1, 8)}Gi}}',
           f'{ind}    requests:',
           f'{ind}      cpu: {rnd.randint(100, 900)}m',
           f'{ind}      memory: {rnd.randint(128, 1024)}Mi',
           f'{ind}  livenessProbe:',
           f'{ind}    httpGet:',
           f'{ind}      path: /healthz',
           f'{ind}      port: http',
           f'{ind}    initialDelaySeconds: 10',
           f'{ind}  readinessProbe:',
           f'{ind}    httpGet: {{path: /ready, port: http}}',
           f'{ind}  volumeMounts:',
           f'{ind}  - name: config',
           f'{ind}    mountPath: /etc/{nm}',
           f'{ind}    readOnly: true',
           f'{ind}  command:',
           f'{ind}  - /bin/sh',
           f'{ind}  - -c',
           f'{ind}  - |',
           f'{ind}    echo starting {nm}',
           f'{ind}    exec /usr/local/bin/{nm} --config /etc/{nm}/config.yaml',
           ]
    out += env_block(ind + '  ', rnd.randint(8, 30))
    return out

def workload(kind, av):
    nm = name()
    ns = rnd.choice(['default', 'prod', 'staging', 'team-a', 'team-b'])
    app = nm.split('-')[0]
    labels = {'app': app, 'app.kubernetes.io/name': nm, 'tier': rnd.choice(['fe', 'be'])}
    r = rnd.random()
    out = [f'apiVersion: {av}', f'kind: {kind}', 'metadata:', f'  name: {nm}', f'  namespace: {ns}',
           '  labels:', f'    app: {app}', '  annotations:',
           f'    description: "generated {kind} for benchmarks"',
           f'    checksum/config: {rnd.getrandbits(128):032x}', 'spec:']
    if kind != 'DaemonSet':
        out.append(f'  replicas: {rnd.randint(1, 5)}')
    if kind == 'StatefulSet':
        out.append(f'  serviceName: {nm}')
    if r < 0.03:
        pass  # no selector: KV403 when it is or becomes apps/v1
    elif r < 0.06:
        out += ['  selector:', '    matchLabels:', f'      app: {app}-other']  # KV404
    else:
        out += ['  selector:', '    matchLabels:', f'      app: {app}',
                f'      app.kubernetes.io/name: {nm}']
    if kind == 'Deployment':
        out += ['  strategy:', '    type: RollingUpdate', '    rollingUpdate:',
                '      maxSurge: 25%', '      maxUnavailable: 0']
    out += ['  template:', '    metadata:', '      labels:']
    out += [f'        {k}: {v}' for k, v in labels.items()]
    out += ['      annotations:', f'        prometheus.io/scrape: "true"',
            '    spec:', f'      serviceAccountName: {nm}', '      securityContext:',
            '        runAsNonRoot: true', '        fsGroup: 2000', '      containers:']
    for c in range(rnd.randint(1, 3)):
        out += container('      ', f'{app}-{c}')
    out += ['      volumes:', '      - name: config', '        configMap:', f'          name: {nm}']
    return out

def simple(av, kind, body):
    nm = name()
    return [f'apiVersion: {av}', f'kind: {kind}', 'metadata:', f'  name: {nm}',
            f'  namespace: default'] + body

def other():
    r = rnd.random()
    if r < 0.3:
        return simple('v1', 'Service', ['spec:', '  selector:', '    app: web', '  ports:',
                                        '  - port: 80', '    targetPort: http'])
    if r < 0.5:
        body = ['data:'] + [f'  key{i}: "{rnd.getrandbits(64):x}"' for i in range(rnd.randint(5, 40))]
        return simple('v1', 'ConfigMap', body)
    if r < 0.62:
        av = rnd.choice(['networking.k8s.io/v1', 'networking.k8s.io/v1', 'extensions/v1beta1',
                         'networking.k8s.io/v1beta1'])
        return simple(av, 'Ingress', ['spec:', '  rules:', '  - host: example.com', '    http:',
                                      '      paths:', '      - path: /', '        pathType: Prefix',
                                      '        backend:', '          service:',
                                      '            name: web', '            port: {number: 80}'])
    if r < 0.72:
        av = rnd.choice(['batch/v1', 'batch/v1', 'batch/v1beta1'])
        return simple(av, 'CronJob', ['spec:', '  schedule: "*/5 * * * *"', '  jobTemplate:',
                                      '    spec:', '      template:', '        spec:',
                                      '          restartPolicy: OnFailure', '          containers:',
                                      '          - name: job', '            image: busybox'])
    if r < 0.8:
        av = rnd.choice(['autoscaling/v2', 'autoscaling/v2beta1', 'autoscaling/v2beta2'])
        return simple(av, 'HorizontalPodAutoscaler', ['spec:', '  minReplicas: 1', '  maxReplicas: 5',
                                                      '  scaleTargetRef:', '    apiVersion: apps/v1',
                                                      '    kind: Deployment', '    name: web'])
    if r < 0.88:
        av = rnd.choice(['policy/v1', 'policy/v1beta1'])
        return simple(av, 'PodDisruptionBudget', ['spec:', '  minAvailable: 1', '  selector:',
                                                  '    matchLabels:', '      app: web'])
    av = rnd.choice(['rbac.authorization.k8s.io/v1', 'rbac.authorization.k8s.io/v1beta1'])
    return simple(av, 'Role', ['rules:', '- apiGroups: [""]', '  resources: ["pods"]',
                               '  verbs: ["get", "list", "watch"]'])

def doc():
    if rnd.random() < 0.75:
        kind = rnd.choice(['Deployment', 'Deployment', 'Deployment', 'StatefulSet', 'DaemonSet'])
        av = rnd.choices(['apps/v1', 'extensions/v1beta1', 'apps/v1beta1', 'apps/v1beta2'],
                         [85, 5, 5, 5])[0]
        if kind == 'StatefulSet' and av == 'extensions/v1beta1':
            av = 'apps/v1beta2'
        if kind == 'DaemonSet' and av == 'apps/v1beta1':
            av = 'apps/v1beta2'
        return workload(kind, av)
    return other()

def main():
    total = 0
    for i in range(NFILES):
        d = os.path.join(OUT, f'team{i % 50:02d}', f'app{i // 50:04d}')
        os.makedirs(d, exist_ok=True)
        docs = ['\n'.join(doc()) + '\n' for _ in range(NDOCS)]
        text = '---\n'.join(docs)
        with open(os.path.join(d, f'manifests-{i:05d}.yaml'), 'w') as f:
            f.write(text)
        total += len(text)
    print(f'{OUT}: {NFILES} files, {NFILES * NDOCS} documents, {total / 1e6:.1f} MB')

if __name__ == '__main__':
    main()
