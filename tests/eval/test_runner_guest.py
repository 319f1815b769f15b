#!/usr/bin/env python3
"""dmt-eval --source=guest end to end on a tiny matrix (gups, stream x 4k, thp):
one `dmtvm run` per cell, counters from its JSON report (exact access counts
of the workloads' ROI), nested schemes from the replay of the run's own trace
(labelled as such), resumable, traces deleted, the --mem rule. Exits 77
(skip) when /dev/kvm is missing or not usable.

usage: test_runner_guest.py DMT_EVAL BUILD_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

EVAL, BUILD = sys.argv[1], sys.argv[2]
if not os.access(os.environ.get('DMT_EVAL_KVM', '/dev/kvm'), os.R_OK | os.W_OK):
    print('SKIP: /dev/kvm missing or not usable')
    sys.exit(77)
sys.path.insert(0, os.path.dirname(os.path.realpath(EVAL)))
import dmteval_run as X  # noqa: E402

fails = 0


def check(what, cond, detail=''):
    global fails
    print(('ok   ' if cond else 'FAIL ') + what + ('' if cond else ': ' + str(detail)))
    if not cond:
        fails += 1


def run(*args):
    return subprocess.run([sys.executable, EVAL, '--build', BUILD] + list(args),
                          capture_output=True, text=True, timeout=120)


# --mem = footprint * 1.25 + 64 MiB, rounded up to 2 MiB
check('guest_mem 256M -> 384M', X.guest_mem(['-m', '256M', '-n', '1']) == 384 << 20,
      X.guest_mem(['-m', '256M']))
check('guest_mem 48K -> 66M', X.guest_mem(['-m', '48K', '-n', '2']) == 66 << 20,
      X.guest_mem(['-m', '48K']))
check('guest_mem 1G -> 1344M', X.guest_mem(['-m', '1G']) == 1344 << 20)

# The workloads' ROI, counted by hand from their loops (and equal to the
# host-traced replay's counts): (loads, stores, fetch records).
# gups -m 64K -n 1K: 1024 updates, 2 loads and 2 stores each; stream -m 48K
# -n 2: 2048 doubles per array, 2 passes of 6 loads and 4 stores per element
# (+3 scalar loads).
ROI = {'gups': (2048, 2048, 17), 'stream': (12291, 8192, 29)}
tmp = tempfile.mkdtemp(prefix='dmt-eval-guest-')
out = os.path.join(tmp, 'res')
try:
    # default source: guest (KVM is usable here)
    r = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    check('first run exits 0', r.returncode == 0, r.stderr)
    prog = re.findall(r'^dmt-eval: \[(\d)/4\] (gups|stream) (4k|thp): [\d.]+ s, [\d.]+ M accesses, '
                      r'[\d.]+ M accesses/s$', r.stdout, re.M)
    check('4 progress lines', len(prog) == 4, r.stdout)
    check('no separate trace stage', 'trace' not in r.stdout, r.stdout)
    check('no fallback note', 'NOTE' not in r.stderr, r.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        res = json.load(f)
    check('params: source guest', res['params']['source'] == 'guest', res['params'])
    check('no errors', res['errors'] == [], res['errors'])
    check('4 cells', len(res['cells']) == 4, len(res['cells']))
    for c in res['cells']:
        w, page, s = c['workload'], c['page'], c['counters']['schemes']
        tag = '%s %s: ' % (w, page)
        check(tag + 'source guest, dmtvm run pvdmt --schemes=all',
              c['source'] == 'guest' and c['command'][1] == 'run'
              and '--mode=pvdmt' in c['command'] and '--schemes=all' in c['command'])
        want_pages = (['--thp=off', '--host-pages=4k'] if page == '4k'
                      else ['--thp=on', '--host-pages=2m'])
        check(tag + 'page options', all(o in c['command'] for o in want_pages), c['command'])
        check(tag + '--mem=66M', '--mem=66M' in c['command'] and c['guest']['mem'] == 66 << 20,
              c['command'])
        check(tag + 'guest exit 0, trace flushed',
              c['guest']['exit_status'] == 0 and c['guest']['hypercalls']['trace_flush'] >= 1,
              c['guest'])
        check(tag + '14 schemes', len(s) == 14, sorted(s))
        ld, st, fe = ROI[w]
        a2 = s['x86-2d']
        check(tag + 'ROI loads/stores/fetches exact',
              (a2['loads'], a2['stores'], a2['fetches']) == (ld, st, fe),
              (a2['loads'], a2['stores'], a2['fetches']))
        # one TLB simulation per model instance: the guest's schemes share
        # walks; the nested ones (replay, simos's own THP choice) share theirs
        for grp, ref in (('guest', 'x86-2d'), ('nested', 'x86-nested-ept02')):
            names = [k for k in s if (k in X.NESTED_SCHEMES) == (grp == 'nested')]
            check(tag + grp + ' schemes saw the same accesses and walks',
                  all((s[k]['accesses'], s[k]['walks']) == (a2['accesses'], s[ref]['walks'])
                      for k in names), {k: (s[k]['accesses'], s[k]['walks']) for k in names})
        check(tag + 'walks > 0 in every scheme (nested ones from the replay)',
              all(v['walks'] > 0 and v['walk_cycles'] > 0 for v in s.values()))
        check(tag + 'nested replay recorded',
              c['nested_command'][-2] != '--thp' or page == 'thp')
        check(tag + 'accesses in the cell', c['accesses'] == a2['accesses'] > 0, c['accesses'])
    md = open(os.path.join(out, 'results.md')).read()
    check('nested tables labelled as replay', len(re.findall(
        r'^### nested (4K|THP), .*replay of the guest run\'s trace', md, re.M)) == 4, md[:400])
    check('12 tables', len(re.findall(r'^### (virtualized|native|nested) ', md, re.M)) == 12)
    check('source named in results.md', 'trace source: guest: dmtvm run' in md)
    check('traces deleted', os.listdir(os.path.join(out, 'traces')) == [],
          os.listdir(os.path.join(out, 'traces')))
    check('12 PNG charts', len([p for p in os.listdir(os.path.join(out, 'charts'))
                                if p.endswith('.png')]) == 12)

    r2 = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    check('rerun exits 0, skips all 4', r2.returncode == 0 and
          r2.stdout.count('done earlier') == 4, r2.stdout + r2.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        check('rerun: same metrics', json.load(f)['metrics'] == res['metrics'])
    # the host source in the same directory keeps its own cells
    r3 = run('--sizes=tiny', '--workloads', 'gups', '--thp', 'off', '--source=host',
             '--no-charts', '--out', out)
    check('host source beside: runs fresh', r3.returncode == 0 and
          'done earlier' not in r3.stdout and '[1/1] gups 4k' in r3.stdout, r3.stdout + r3.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        h = json.load(f)['cells'][0]['counters']['schemes']['x86-2d']
    g = [c for c in res['cells'] if (c['workload'], c['page']) == ('gups', '4k')][0]
    g = g['counters']['schemes']['x86-2d']
    check('host replay and guest run see the same ROI accesses',
          all(h[k] == g[k] for k in ('accesses', 'loads', 'stores', 'fetches')),
          ({k: h[k] for k in ('accesses', 'loads', 'stores', 'fetches')}, g))
    r4 = run('--source=elsewhere', '--out', out)
    check('bad --source: exit 2', r4.returncode == 2 and '--source' in r4.stderr, r4.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print('%d failure(s)' % fails)
sys.exit(1 if fails else 0)
