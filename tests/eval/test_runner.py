#!/usr/bin/env python3
"""dmt-eval --source=host --nested-source=replay end to end on a two-workload
tiny matrix (gups, stream x 4k, thp): well-formed results.json, Markdown
tables and PNG charts; a rerun skips every finished run (resumable); bad
usage exits 2 with a one-line message; without /dev/kvm both sources fall
back to simos tables with one NOTE line. (Real nesting: test_runner_guest.py.)

usage: test_runner.py DMT_EVAL BUILD_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

EVAL, BUILD = sys.argv[1], sys.argv[2]
from evaltest import check, finish, run_eval  # noqa: E402


def run(*args):
    return run_eval(EVAL, ['--build', BUILD, '--source=host', '--nested-source=replay']
                    + list(args), 300)


tmp = tempfile.mkdtemp(prefix='dmt-eval-test-')
out = os.path.join(tmp, 'res')
try:
    r = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    check('first run exits 0', r.returncode == 0, r.stderr)
    prog = re.findall(r'^dmt-eval: \[(\d)/4\] (gups|stream) (4k|thp): [\d.]+ s, [\d.]+ M accesses, '
                      r'[\d.]+ M accesses/s$', r.stdout, re.M)
    check('4 progress lines with workload, setup, elapsed, accesses/s', len(prog) == 4, r.stdout)
    check('2 trace lines', len(re.findall(r'^dmt-eval: trace (gups|stream) ', r.stdout, re.M)) == 2,
          r.stdout)

    with open(os.path.join(out, 'results.json')) as f:
        res = json.load(f)
    check('results.json schema', res.get('schema') == 'dmtvm.eval/1', res.get('schema'))
    check('4 cells', len(res['cells']) == 4, len(res['cells']))
    check('cells carry dmtvm.counters/1',
          all(c['counters']['schema'] == 'dmtvm.counters/1' for c in res['cells']))
    check('cells simulated accesses', all(c['accesses'] > 0 for c in res['cells']))
    check('no errors', res['errors'] == [], res['errors'])
    gm = res['geomean']['4k']['virtualized']
    check('geomean virtualized has all six designs',
          all(d in gm for d in ('DMT', 'pvDMT', 'FPT', 'ECPT', 'ASAP', 'Agile')), gm.keys())

    md = open(os.path.join(out, 'results.md')).read()
    for page in ('4 KiB pages', '2 MiB pages'):
        check('section ' + page, ('## ' + page) in md)
    tables = re.findall(r'^### (.*)\n\n((?:\|.*\|\n)+)', md, re.M)
    check('12 tables (2 pages x 3 setups x 2 metrics)', len(tables) == 12, len(tables))
    for title, body in tables:
        rows = [ln.split('|')[1:-1] for ln in body.strip().split('\n')]
        head, sep, data = rows[0], rows[1], rows[2:]
        well = (all(len(x) == len(head) for x in rows) and all(s == '---' for s in sep)
                and [d[0].strip() for d in data] == ['gups', 'stream', '**geomean**'])
        nlab = len(head) - (2 if 'ovh' in head[1] else 5)  # designs: the last columns
        nums = (nlab >= 2 and all(re.fullmatch(r'\**(\d+\.\d\d|n/a)\**', c.strip())
                                  for d in data for c in d[-nlab:])
                and all(re.fullmatch(r'\d+(\.\d%)?', c.strip()) for d in data[:-1]
                        for c in d[1:-nlab]))
        check('table well formed: ' + title, well and nums, body)
    # the table shows the JSON's numbers
    want = '**%.2f**' % gm['DMT']['walk_speedup']  # 4k
    vt = dict(tables)['virtualized 4K, page-walk speedup over x86-2d, VM exits charged 2000 '
                      'cycles each']
    gmrow = [c.strip() for c in vt.strip().split('\n')[-1].split('|')[1:-1]]
    check('geomean DMT cell matches results.json', gmrow[5] == want, (gmrow, want))

    check('traces deleted after their runs', os.listdir(os.path.join(out, 'traces')) == [],
          os.listdir(os.path.join(out, 'traces')))
    charts = os.path.join(out, 'charts')
    pngs = sorted(p for p in os.listdir(charts) if p.endswith('.png'))
    check('12 PNG charts', len(pngs) == 12, pngs)
    for p in pngs:
        with open(os.path.join(charts, p), 'rb') as f:
            data = f.read()
        check('PNG %s' % p, data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 2000, len(data))

    r2 = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    check('rerun exits 0', r2.returncode == 0, r2.stderr)
    check('rerun skips all 4 runs', r2.stdout.count('done earlier') == 4, r2.stdout)
    check('rerun makes no trace', 'trace' not in r2.stdout, r2.stdout)
    with open(os.path.join(out, 'results.json')) as f:
        res2 = json.load(f)
    check('rerun: same metrics', res2['metrics'] == res['metrics'])

    # --exit-cycles: recorded in params; the same directory resumed with
    # another N recomputes every cell's metrics from its stored counters (no
    # run redone, no cell of the other N left); titles say N only when N > 0.
    sys.path.insert(0, os.path.dirname(os.path.realpath(EVAL)))
    import dmteval_metrics as M
    check('exit_cycles 2000 recorded by default', res['params'].get('exit_cycles') == 2000,
          res['params'].get('exit_cycles'))
    t1 = re.findall(r'^### (.*)$', md, re.M)
    check('default: the 8 virtualized and nested tables say exits are charged 2000 cycles',
          len([t for t in t1 if 'VM exits charged 2000 cycles each' in t]) == 8 and
          not any('exits charged' in t for t in t1 if t.startswith('native')), t1)
    check('default: shadow and Agile columns marked', '| shadow (+exits) |' in md and
          ' Agile (+exits) |' in md, md)
    r10 = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on',
              '--exit-cycles', '1000', '--out', out)
    with open(os.path.join(out, 'results.json')) as f:
        res3 = json.load(f)
    md3 = open(os.path.join(out, 'results.md')).read()
    check('--exit-cycles 1000: exit 0, all 4 runs skipped', r10.returncode == 0 and
          r10.stdout.count('done earlier') == 4, (r10.returncode, r10.stdout, r10.stderr))
    check('--exit-cycles 1000 recorded', res3['params'].get('exit_cycles') == 1000,
          res3['params'].get('exit_cycles'))
    want = {}
    for c in res3['cells']:
        want.setdefault(c['page'], {})[c['workload']] = M.to_json(
            M.cell_metrics(c['counters'], 2, 1000))
    check('--exit-cycles 1000: every cell\'s metrics computed with N = 1000',
          res3['metrics'] == want)
    fills = [c['counters']['schemes']['x86-nested-ept02']['shadow_fills']
             for c in res3['cells'] if c['page'] == '4k']

    def nested(r, w, k):
        return r['metrics']['4k'][w]['nested']['designs']['pvDMT'][k]
    check('--exit-cycles 1000: nested walk and app speedups changed (EPT02 fills %s)' % fills,
          all(fills) and all(nested(res3, w, k) != nested(res, w, k) for w in ('gups', 'stream')
                             for k in ('walk_speedup', 'app_speedup')), fills)
    check('--exit-cycles 1000: the model\'s walk speedups unchanged', all(
        res3['metrics'][pg][w][st]['designs'][d]['walk_speedup_model'] ==
        res['metrics'][pg][w][st]['designs'][d]['walk_speedup_model']
        for pg in res['metrics'] for w in res['metrics'][pg] for st in res['metrics'][pg][w]
        for d in res['metrics'][pg][w][st]['designs']))
    t3 = re.findall(r'^### (.*)$', md3, re.M)
    charged = [t for t in t3 if 'VM exits charged 1000 cycles each' in t]
    check('--exit-cycles 1000: the 8 virtualized and nested tables say N', len(charged) == 8, t3)
    check('--exit-cycles 1000: nested claim and headline say N', len(re.findall(
        r'^- nested: pvDMT application speedup > 1: .*VM exits charged 1000 cycles each\)$',
        md3, re.M)) == 2 and md3.count('application speedup, VM exits charged 1000') == 2,
        md3)
    r13 = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on',
              '--exit-cycles', '0', '--out', out)
    with open(os.path.join(out, 'results.json')) as f:
        res5 = json.load(f)
    md5 = open(os.path.join(out, 'results.md')).read()
    check('--exit-cycles 0: the artifact\'s accounting, no charge named, walk = model',
          r13.returncode == 0 and 'exits charged' not in md5 and '(+exits)' not in md5 and all(
              d['walk_speedup'] == d['walk_speedup_model'] for pg in res5['metrics'].values()
              for m in pg.values() for st in m.values() for d in st['designs'].values()), md5)
    r11 = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    with open(os.path.join(out, 'results.json')) as f:
        res4 = json.load(f)
    check('back to the default: the first run\'s metrics and results.md', r11.returncode == 0 and
          res4['metrics'] == res['metrics'] and
          open(os.path.join(out, 'results.md')).read() == md)
    r12 = run('--exit-cycles', '-5', '--out', out)
    check('bad --exit-cycles: exit 2, one line', r12.returncode == 2 and
          r12.stderr == "dmt-eval: --exit-cycles: '-5': expected an integer >= 0\n", r12.stderr)

    check('nested rows: the host replay\'s, named so',
          res['params']['nested_source'] == 'replay' and
          all(c['row_sources']['nested'] == 'host trace replayed over simos tables'
              for c in res['cells']) and
          len(re.findall(r'^### nested (4K|THP), .*\(replay over simos tables: no nesting\)$',
                         md, re.M)) == 4, (res['params'], md[:300]))

    # without a usable /dev/kvm the default sources are host and replay, with a loud note
    nk = os.path.join(tmp, 'nokvm')
    r7 = subprocess.run([sys.executable, EVAL, '--build', BUILD, '--sizes=tiny', '--workloads',
                         'gups', '--thp', 'off', '--no-charts', '--out', nk], capture_output=True,
                        text=True, timeout=120,
                        env=dict(os.environ, DMT_EVAL_KVM=os.path.join(tmp, 'no-such-kvm'), DMT_EVAL_PTRACE='0'))
    with open(os.path.join(nk, 'results.json')) as f:
        par = json.load(f)['params']
        src = (par['source'], par['nested_source'])
    check('no /dev/kvm: exit 0, sources host and replay, one NOTE line',
          r7.returncode == 0 and src == ('host', 'replay') and r7.stderr.count('NOTE') == 1
          and 'falling back to --source=host and --nested-source=replay' in r7.stderr,
          (r7.returncode, src, r7.stderr))
    r9 = subprocess.run([sys.executable, EVAL, '--build', BUILD, '--source=host',
                         '--nested-source=nested', '--out', nk],
                        capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, DMT_EVAL_KVM=os.path.join(tmp, 'no-such-kvm'), DMT_EVAL_PTRACE='0'))
    check('no /dev/kvm: --nested-source=nested exits 1 naming /dev/kvm', r9.returncode == 1 and
          '--nested-source=nested: /dev/kvm' in r9.stderr, (r9.returncode, r9.stderr))
    r8 = subprocess.run([sys.executable, EVAL, '--build', BUILD, '--source=guest', '--out', nk],
                        capture_output=True, text=True, timeout=60,
                        env=dict(os.environ, DMT_EVAL_KVM=os.path.join(tmp, 'no-such-kvm'), DMT_EVAL_PTRACE='0'))
    check('no /dev/kvm: --source=guest exits 1 naming /dev/kvm', r8.returncode == 1 and
          '/dev/kvm' in r8.stderr, (r8.returncode, r8.stderr))

    r3 = run('--workloads', 'gups,nosuch', '--out', out)
    check('unknown workload: exit 2', r3.returncode == 2, r3.returncode)
    check('unknown workload: one-line message naming it',
          "unknown workload 'nosuch'" in r3.stderr and r3.stderr.count('\n') == 1, r3.stderr)
    r4 = run('--thp', 'maybe', '--out', out)
    check('bad --thp: exit 2', r4.returncode == 2 and "--thp: 'maybe'" in r4.stderr, r4.stderr)
    r5 = run('--scale', '3', '--out', out)
    check('bad --scale: exit 2', r5.returncode == 2 and '--scale: 3' in r5.stderr, r5.stderr)
    # the trace cap: both tiny traces (stream ~160 KB, gups ~33 KB) exceed 16K
    cap = os.path.join(tmp, 'cap')
    r6 = run('--sizes=tiny', '--workloads', 'stream,gups', '--thp', 'off', '--max-trace', '16K',
             '--no-charts', '--out', cap)
    check('trace cap: exit 1 naming stream and the cap', r6.returncode == 1 and
          'stream -m 48K -n 2: trace larger than --max-trace=16K' in r6.stderr, r6.stderr)
    check('trace cap: no partial trace left', os.listdir(os.path.join(cap, 'traces')) == [],
          os.listdir(os.path.join(cap, 'traces')))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

finish()
