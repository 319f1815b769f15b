#!/usr/bin/env python3
"""dmt-eval --source=guest end to end on a tiny matrix (gups, stream x 4k, thp):
one `dmtvm run` per cell, counters from its JSON report (exact access counts
of the workloads' ROI); nested rows by default from one real nested run per
cell (L2 in L1 dmtvm: L0's counters.l2, the same exact ROI), labelled so;
resumable, no traces left, the --mem rules; a failing nested run; the replay
option (--nested-source=replay: replay of the guest run's own trace,
labelled as such). Exits 77 (skip) when /dev/kvm is missing or not usable.

usage: test_runner_guest.py DMT_EVAL BUILD_DIR
"""

import json
import os
import re
import shutil
import sys
import tempfile

EVAL, BUILD = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..'))
import dmtvm_platform  # noqa: E402
_why = dmtvm_platform.setup()
if _why:
    sys.exit(dmtvm_platform.skip(_why))
sys.path.insert(0, os.path.dirname(os.path.realpath(EVAL)))
import dmteval_run as X  # noqa: E402

from evaltest import check, finish, run_eval  # noqa: E402


def run(*args):
    return run_eval(EVAL, ['--build', BUILD] + list(args), 120)


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
ARGS = {'gups': ['-m', '64K', '-n', '1K'], 'stream': ['-m', '48K', '-n', '2']}
tmp = tempfile.mkdtemp(prefix='dmt-eval-guest-')
out = os.path.join(tmp, 'res')
try:
    # default source: guest (KVM is usable here)
    # default sources: guest and nested (KVM is usable here)
    r = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    check('first run exits 0', r.returncode == 0, r.stderr)
    prog = re.findall(r'^dmt-eval: \[(\d)/8\] (gups|stream) (4k|thp): [\d.]+ s, [\d.]+ M accesses, '
                      r'[\d.]+ M accesses/s$', r.stdout, re.M)
    check('4 progress lines', len(prog) == 4, r.stdout)
    nprog = re.findall(r'^dmt-eval: \[(\d)/8\] (gups|stream) (4k|thp) nested: [\d.]+ s, [\d.]+ M '
                       r'accesses in L2, [\d.]+ M accesses/s, L2 boot \d+ ms$', r.stdout, re.M)
    check('4 nested progress lines', len(nprog) == 4, r.stdout)
    check('all 8 counted', sorted(int(p[0]) for p in prog + nprog) == list(range(1, 9)),
          r.stdout)
    check('no separate trace stage', 'trace' not in r.stdout, r.stdout)
    check('no fallback note', 'NOTE' not in r.stderr, r.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        res = json.load(f)
    check('params: sources guest and nested', (res['params']['source'],
                                               res['params']['nested_source']) ==
          ('guest', 'nested'), res['params'])
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
        # The nested run: L0 -> L1 dmtvm -> L2 NAME-trace, L2 --mem as the
        # guest run's, L1's = that x 17/16 + 64M; page options per setup.
        n = c['nested_run']
        nc = n['command']
        want_n = (['--thp=off', '--host-pages=4k', '--thp=off', '--ept12-pages=4k'] if page == '4k'
                  else ['--thp=on', '--host-pages=2m', '--thp=on', '--ept12-pages=2m'])
        check(tag + 'nested command', nc[1:3] == ['run', '--mode=pvdmt'] and
              nc[3] == '--schemes=x86-nested-ept02,pvdmt-nested,x86-3d' and
              '--mem=136M' in nc and nc.index('--mem=136M') < nc.index('--') and
              nc[nc.index('--'):nc.index('--') + 6] == ['--', 'dmtvm', 'run', '--no-seccomp',
                                                        '--mode=pvdmt', '--mem=66M'] and
              nc[-len(ARGS[w]) - 2:] == ['--', w + '-trace'] + ARGS[w] and
              [o for o in nc if o.startswith(('--thp=', '--host-pages=', '--ept12-pages='))]
              == want_n and nc[nc.index('--') - 1].endswith('nested.img'), nc)
        check(tag + 'nested run: L2 booted, exit 0, traced at L0',
              n['nested']['exit_status'] == 0 and n['nested']['l2_boot_us'] > 0 and
              n['nested']['l2_hypercalls_at_l0']['trace_flush'] >= 1, n['nested'])
        check(tag + 'row sources', c['row_sources'] == {
            'virtualized': 'guest run (real tables)', 'native': 'guest run (real tables)',
            'nested': 'nested run (L2 in L1 dmtvm)'} and c['nested_source'] == 'nested',
            c.get('row_sources'))
        n2 = s['x86-nested-ept02']
        check(tag + 'L2 ROI loads/stores/fetches exact (= the guest run\'s)',
              (n2['loads'], n2['stores'], n2['fetches']) == (ld, st, fe),
              (n2['loads'], n2['stores'], n2['fetches']))
        # one TLB simulation per model instance: the guest's schemes share
        # walks; the nested ones (L2's model at L0) share theirs
        for grp, ref in (('guest', 'x86-2d'), ('nested', 'x86-nested-ept02')):
            names = [k for k in s if (k in X.NESTED_SCHEMES) == (grp == 'nested')]
            check(tag + grp + ' schemes saw the same accesses and walks',
                  all((s[k]['accesses'], s[k]['walks']) == (a2['accesses'], s[ref]['walks'])
                      for k in names), {k: (s[k]['accesses'], s[k]['walks']) for k in names})
        check(tag + 'walks > 0 in every scheme (nested ones from L2)',
              all(v['walks'] > 0 and v['walk_cycles'] > 0 for v in s.values()))
        # tiny sizes: no L2 VMA of >= 64 MiB, so no TEA: every pvdmt-nested
        # walk falls back; true 3D makes more references than x86-nested-ept02
        # (which walks the composed EPT02 in 2D)
        check(tag + 'nested: pvdmt-nested falls back on every walk, x86-3d refs > EPT02\'s',
              s['pvdmt-nested']['dmt_fallbacks'] == s['pvdmt-nested']['walks'] and
              s['x86-3d']['refs'] > n2['refs'],
              {k: (s[k]['refs'], s[k]['walks'], s[k]['dmt_fallbacks']) for k in X.NESTED_SCHEMES})
        check(tag + 'no replay in a nested-source cell', 'nested_command' not in c, sorted(c))
        check(tag + 'accesses in the cell', c['accesses'] == a2['accesses'] > 0, c['accesses'])
    md = open(os.path.join(out, 'results.md')).read()
    check('nested tables labelled as real nesting', len(re.findall(
        r'^### nested (4K|THP), .*\(real nesting: L2 in L1 dmtvm, L0\'s model over L2 tables, '
        r'EPT12, EPT01\)$', md, re.M)) == 4, md[:400])
    check('nested claim names its source', len(re.findall(
        r'^- nested: pvDMT application speedup > 1: .*; real nesting: L2 in L1 dmtvm', md,
        re.M)) == 2)
    check('nested rows described', 'Nested rows: nested runs: ' in md)
    check('12 tables', len(re.findall(r'^### (virtualized|native|nested) ', md, re.M)) == 12)
    check('source named in results.md', 'trace source: guest: dmtvm run' in md)
    check('traces deleted', os.listdir(os.path.join(out, 'traces')) == [],
          os.listdir(os.path.join(out, 'traces')))
    check('12 PNG charts', len([p for p in os.listdir(os.path.join(out, 'charts'))
                                if p.endswith('.png')]) == 12)

    r2 = run('--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on', '--out', out)
    check('rerun exits 0, skips all 8', r2.returncode == 0 and
          r2.stdout.count('done earlier') == 8 and r2.stdout.count('nested: done earlier') == 4,
          r2.stdout + r2.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        check('rerun: same metrics', json.load(f)['metrics'] == res['metrics'])
    # the host source in the same directory keeps its own cells
    r3 = run('--sizes=tiny', '--workloads', 'gups', '--thp', 'off', '--source=host',
             '--no-charts', '--out', out)
    check('host source beside: its replay runs fresh, the nested run is shared',
          r3.returncode == 0 and '[1/2] gups 4k: ' in r3.stdout and
          '[2/2] gups 4k nested: done earlier' in r3.stdout, r3.stdout + r3.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        h = json.load(f)['cells'][0]['counters']['schemes']['x86-2d']
    g = [c for c in res['cells'] if (c['workload'], c['page']) == ('gups', '4k')][0]
    g = g['counters']['schemes']['x86-2d']
    check('host replay and guest run see the same ROI accesses',
          all(h[k] == g[k] for k in ('accesses', 'loads', 'stores', 'fetches')),
          ({k: h[k] for k in ('accesses', 'loads', 'stores', 'fetches')}, g))
    # --nested-source=replay: a stored guest cell has no replay, so the
    # guest run is redone with its trace, whose replay gives the nested rows
    r5 = run('--sizes=tiny', '--workloads', 'gups', '--thp', 'on', '--nested-source=replay',
             '--no-charts', '--out', out)
    check('replay option: exit 0, guest run redone, 1 run', r5.returncode == 0 and
          re.search(r'^dmt-eval: \[1/1\] gups thp: [\d.]+ s', r5.stdout, re.M) and
          'nested' not in r5.stdout, r5.stdout + r5.stderr)
    with open(os.path.join(out, 'results.json')) as f:
        rr = json.load(f)
    c = rr['cells'][0]
    check('replay option: nested rows from the replay of the run\'s trace',
          rr['params']['nested_source'] == 'replay' and c['nested_command'][-2] == '--thp' and
          c['row_sources']['nested'] == 'replay of the guest run\'s trace over simos tables' and
          c['counters']['schemes']['x86-nested-ept02']['walks'] > 0, c.get('row_sources'))
    md = open(os.path.join(out, 'results.md')).read()
    check('replay option: nested tables labelled as replay', len(re.findall(
        r'^### nested THP, .*\(replay of the guest run\'s trace over simos tables: no nesting\)$',
        md, re.M)) == 2, md[:400])
    check('replay option: trace deleted', os.listdir(os.path.join(out, 'traces')) == [])
    # a failing nested run (an image without /bin/dmtvm: L1's /init fails)
    # is one error; the cell's other rows stay, its nested rows are dropped
    bad = os.path.join(tmp, 'bad')
    r6 = run('--sizes=tiny', '--workloads', 'gups', '--thp', 'off', '--no-charts',
             '--nested-image', os.path.join(BUILD, 'guest.img'), '--out', bad)
    with open(os.path.join(bad, 'results.json')) as f:
        rb = json.load(f)
    check('failing nested run: exit 1, one FAILED line, one error',
          r6.returncode == 1 and r6.stdout.count('gups 4k nested FAILED: ') == 1 and
          len(rb['errors']) == 1 and rb['errors'][0].startswith(
              'gups 4k nested run: exit status 127: init: cannot run /bin/dmtvm: No such file '
              'or directory (command and output: '), (r6.stdout, rb['errors']))
    check('failing nested run: virtualized rows kept, nested ones dropped',
          set(rb['metrics']['4k']['gups']) == {'virtualized', 'native'} and
          not any(k in X.NESTED_SCHEMES for k in rb['cells'][0]['counters']['schemes']),
          rb['metrics']['4k']['gups'].keys())
    check('failing nested run: not stored (a rerun retries it)',
          not os.path.exists(os.path.join(bad, 'runs', 'gups_m64Kn1K_4k_nested.json')))
    # L2 RAM capped (--nested-max-mem; default 1G, the L1 kernel's pin
    # limit): gups -m 64K x 256 = 16M needs 84M of L2, so at 80M the nested
    # run halves -m to 8M (74M), keeps -n, and says so everywhere
    cap = os.path.join(tmp, 'cap')
    r7 = run('--sizes=tiny', '--scale', '256', '--workloads', 'gups', '--thp', 'off',
             '--nested-max-mem', '80M', '--no-charts', '--out', cap)
    with open(os.path.join(cap, 'results.json')) as f:
        rc = json.load(f)
    c = rc['cells'][0]
    check('shrunk nested run: exit 0, progress line names its size', r7.returncode == 0 and
          re.search(r'^dmt-eval: \[2/2\] gups 4k nested \(-m 8M -n 256K\): [\d.]+ s, 1\.05 M '
                    r'accesses in L2', r7.stdout, re.M), r7.stdout + r7.stderr)
    check('shrunk nested run: args, --mem, labels in results.json',
          c['args'] == ['-m', '16M', '-n', '256K'] and
          c['nested_run']['args'] == ['-m', '8M', '-n', '256K'] and c['nested_run']['resized']
          and '--mem=74M' in c['nested_run']['command'] and
          c['row_sources']['nested'] == 'nested run (L2 in L1 dmtvm) at -m 8M -n 256K '
                                       '(footprint shrunk: L2 RAM <= 80M)' and
          rc['params']['nested_workload_args'] == {'gups': ['-m', '8M', '-n', '256K']} and
          rc['params']['nested_max_mem'] == 80 << 20 and rc['errors'] == [],
          (c['nested_run'], c['row_sources'], rc['errors']))
    md = open(os.path.join(cap, 'results.md')).read()
    check('shrunk nested run: named under both nested tables', md.count(
        'Nested runs with a smaller footprint than the rows above (L2 RAM <= 80M): gups '
        '`-m 8M -n 256K` (not `-m 16M -n 256K`).') == 2, md)
    r8 = run('--nested-max-mem', '64M', '--out', cap)
    check('--nested-max-mem below 72M: exit 2', r8.returncode == 2 and
          "--nested-max-mem: '64M': expected a size >= 72M" in r8.stderr, r8.stderr)
    # --max-trace caps the trace dmtvm writes, not dmtvm's other files: a
    # 66M guest under a 32M cap runs (on ptrace its RAM is a 66M memfd, which
    # RLIMIT_FSIZE would have cut), and a 4K cap stops the run, named.
    capd = os.path.join(tmp, 'cap')
    r9 = run('--sizes=tiny', '--workloads', 'gups', '--thp', 'off', '--nested-source=replay',
             '--max-trace', '32M', '--no-charts', '--out', capd)
    check('--max-trace 32M, 66M guest: exit 0', r9.returncode == 0, r9.stdout + r9.stderr)
    r10 = run('--sizes=tiny', '--workloads', 'gups', '--thp', 'on', '--nested-source=replay',
              '--max-trace', '4K', '--no-charts', '--out', capd)
    check('--max-trace 4K: exit 1 naming gups and the cap', r10.returncode == 1 and
          'gups -m 64K -n 1K: guest trace larger than --max-trace=4K' in r10.stderr,
          r10.stdout + r10.stderr)
    r4 = run('--source=elsewhere', '--out', out)
    check('bad --source: exit 2', r4.returncode == 2 and '--source' in r4.stderr, r4.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

finish()
