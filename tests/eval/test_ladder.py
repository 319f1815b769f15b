#!/usr/bin/env python3
"""dmt-eval --ladder end to end on a tiny matrix (gups): the host source
(host trace replayed with --model-preset=artifact and --set, works
anywhere), and the guest source (dmtvm run --model-preset=artifact
--model-set=...) where a platform runs guests. Checks the runs' options, the
two tables' shape, that each row's geomean is recomputed from the stored
counters (formula_cycles2, trajectory_served with Formula.cs's 2M variants,
walk_cycles), that switching a behaviour off changes the stored
configuration, the resume, and the charts.

usage: test_ladder.py DMT_EVAL BUILD_DIR
"""

import json
import os
import shutil
import sys
import tempfile
from fractions import Fraction

EVAL, BUILD = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..'))
import dmtvm_platform  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.realpath(EVAL)))
import dmteval_ladder as LAD  # noqa: E402

from evaltest import check, finish, run_eval  # noqa: E402


def run(*args):
    return run_eval(EVAL, ['--build', BUILD, '--ladder', '--sizes', 'tiny', '--workloads', 'gups']
                    + list(args), 120)


def lat(cfg, o):
    return 0 if o == 'zero' else int(cfg['lat_' + o])


def check_source(out, source):
    r = run('--source', source, '--nested-source', 'replay', '--out', out)
    check(source + ': exit 0', r.returncode == 0, r.stdout + r.stderr)
    lines = [x for x in r.stdout.splitlines() if x.startswith('ladder ')]
    check(source + ': 7 runs (6 configurations x 4K, 1 THP)', len(lines) == 7, r.stdout)
    with open(os.path.join(out, 'ladder.json')) as f:
        doc = json.load(f)
    check(source + ': schema', doc.get('schema') == 'dmtvm.ladder/1')
    lad, cells = doc['ladder'], doc['cells']
    check(source + ': 8 rows per page size', [len(lad[p]) for p in ('4k', 'thp')] == [8, 8])
    by = {(c['page'], c['config']): c for c in cells}
    # the preset and the switched keys reached the model
    c0, c5 = by[('4k', 0)], by[('4k', 5)]
    check(source + ': preset in the run', any('--model-preset=artifact' in x for x in
                                              c0['command']), c0['command'])
    check(source + ': preset config (line tags, fast path, no data-walk PWC, 4K TLB)',
          c0['model_config'].get('pwc_line_tags') == 1 and
          c0['model_config'].get('cache_fast_path') == 1 and
          c0['model_config'].get('pwc_data_walk') == 0 and c0['model_config'].get('tlb_2m') == 0,
          c0['model_config'])
    check(source + ': last configuration = the defaults (with cache_data=1)',
          c5['model_config'].get('pwc_line_tags') == 0 and
          c5['model_config'].get('cache_fast_path') == 0 and
          c5['model_config'].get('pwc_data_walk') == 1 and c5['model_config'].get('tlb_2m') == 1
          and c5['model_config'].get('cache_data') == 1, c5['model_config'])
    for k in range(1, 6):
        a, b = by[('4k', k - 1)]['model_config'], by[('4k', k)]['model_config']
        key, val = LAD.STEPS[k - 1][0].split('=')
        diff = {x for x in a if a[x] != b.get(x)}
        check('%s: config %d switches %s alone' % (source, k, key),
              diff == {key} and b[key] == int(val), diff)
    # row 1, 4K: the x86-2d formula sums
    f = c0['schemes']['x86-2d']['formula_cycles2']
    want = Fraction(int(f['x86']), int(f['DMT']))
    check(source + ': row 1 4K DMT = formula x86 / DMT',
          abs(lad['4k'][0]['geomean']['DMT virt'] - float(want)) < 1e-9,
          (lad['4k'][0]['geomean'], want))
    # row 1, THP: Formula.cs VirtHyperlane2M on the 4K trajectory, by hand
    ts, cfg = c0['schemes']['x86-2d']['trajectory_served'], c0['model_config']
    cy = {st: sum(int(n) * lat(cfg, o) for o, n in out.items()) for st, out in ts.items()}
    x86 = sum(cy['G%d' % g] + cy['G%dH4' % g] + cy['G%dH3' % g] + cy['G%dH2' % g]
              for g in (4, 3, 2)) + cy['UDH4'] + cy['UDH3'] + cy['UDH2']
    pv = cy['G2'] + cy['UDH2']
    check(source + ': row 1 THP pvDMT = 2M formula on the 4K trajectory',
          abs(lad['thp'][0]['geomean']['pvDMT virt'] - x86 / pv) < 1e-9,
          (lad['thp'][0]['geomean'], x86 / pv))
    # row 7 keeps the 4K column; row 8 is the simulated walk cycles
    check(source + ': row 7 4K = row 6 4K', lad['4k'][6]['geomean'] == lad['4k'][5]['geomean'])
    s = by[('thp', 5)]['schemes']
    check(source + ': row 8 THP DMT = simulated walk cycles',
          abs(lad['thp'][7]['geomean']['DMT virt'] -
              int(s['x86-2d']['walk_cycles']) / int(s['dmt-virt']['walk_cycles'])) < 1e-9)
    check(source + ': the THP run has 2 MiB walks (guest leaf G2)',
          int(s['x86-2d']['trajectory_served']['G1']['zero']) > 0)
    with open(os.path.join(out, 'ladder.md')) as f:
        md = f.read()
    check(source + ': two tables of 8 rows', md.count('| 8 | every design simulated') == 2 and
          md.count('| 1 | artifact preset') == 2, md)
    check(source + ': each row says what it did', md.count('DMT virt ') >= 14, md)
    for p in ('4k', 'thp'):
        png = os.path.join(out, 'charts', 'ladder-%s.png' % p)
        check(source + ': chart ' + p, os.path.exists(png) and os.path.getsize(png) > 1000)
    r = run('--source', source, '--nested-source', 'replay', '--out', out)
    check(source + ': rerun skips every run', r.returncode == 0 and
          r.stdout.count('done earlier, skipped') == 7, r.stdout + r.stderr)
    if source == 'host':
        check('host: no trace left', not os.listdir(os.path.join(out, 'traces')))


tmp = tempfile.mkdtemp(prefix='dmt-eval-ladder-')
try:
    if shutil.which('gnuplot') is None:
        print('SKIP SKIP SKIP: gnuplot (Debian gnuplot-nox) is not installed')
        sys.exit(77)
    check_source(os.path.join(tmp, 'host'), 'host')
    why = dmtvm_platform.setup()
    if why:
        print('note: guest source not checked: ' + why)
    else:
        check_source(os.path.join(tmp, 'guest'), 'guest')
finally:
    shutil.rmtree(tmp, ignore_errors=True)
finish()
