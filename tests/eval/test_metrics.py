#!/usr/bin/env python3
"""dmt-eval metrics on hand-made counters: every speedup, overhead and
geometric mean is checked against hand arithmetic (exact fractions); the
nested source's merge of L2 counters into a cell and its --mem rule.

usage: test_metrics.py TOOLS_EVAL_DIR
"""

import math
import sys
from fractions import Fraction as F

sys.path.insert(0, sys.argv[1])
import dmteval_metrics as M  # noqa: E402
import dmteval_run as X  # noqa: E402


def sch(walk_cycles, data_cycles=0, loads=0, stores=0, walks=10, accesses=100, skipped=0):
    return {'walk_cycles': walk_cycles, 'data_cycles': data_cycles, 'loads': loads,
            'stores': stores, 'walks': walks, 'accesses': accesses, 'skipped': skipped}


# Workload A. x86-2d: walk 1200, data 600, 60 loads + 40 stores; with the
# default 2 cycles per load/store: instructions 200, ovh = 1200/2000 = 3/5.
# DMT 600 -> walk x2, app 1/(2/5 + 3/10) = 10/7; pvDMT 300 -> x4,
# app 1/(2/5 + 3/20) = 20/11; FPT 2400 -> x1/2, app 1/(2/5 + 6/5) = 5/8.
DOC_A = {'schema': 'dmtvm.counters/1', 'schemes': {
    'x86-2d': sch(1200, 600, 60, 40), 'dmt-virt': sch(600), 'pvdmt': sch(300),
    'fpt': sch(2400), 'ecpt': sch(1200), 'asap': sch(1000), 'agile': sch(0, walks=10),
    'x86-native': sch(400, 1000, 50, 50), 'dmt-native': sch(100),
    'x86-nested-ept02': sch(1000, 3000, 100, 400), 'pvdmt-nested': sch(2000),
}}
# Workload B. x86-2d: walk 1000, data 2000, 500 accesses -> instructions
# 1000, ovh = 1/4. DMT 125 -> x8, app 1/(3/4 + 1/32) = 32/25; pvDMT 100 ->
# x10, app 1/(3/4 + 1/40) = 40/31. No native / nested schemes.
DOC_B = {'schema': 'dmtvm.counters/1', 'schemes': {
    'x86-2d': sch(1000, 2000, 250, 250), 'dmt-virt': sch(125), 'pvdmt': sch(100),
}}

fails = 0


def check(what, got, want):
    global fails
    ok = (got == want) if not isinstance(want, float) else (
        got is not None and math.isclose(got, want, rel_tol=1e-12, abs_tol=0))
    if not ok or type(got) is not type(want):
        print('FAIL %s: got %r, want %r' % (what, got, want))
        fails += 1
    else:
        print('ok   %s = %s' % (what, got))


a = M.cell_metrics(DOC_A)
v = a['virtualized']
check('A ovh', v['ovh'], F(3, 5))
check('A baseline', v['baseline'], 'x86-2d')
check('A DMT walk', v['designs']['DMT']['walk_speedup'], F(2))
check('A DMT app', v['designs']['DMT']['app_speedup'], F(10, 7))
check('A pvDMT walk', v['designs']['pvDMT']['walk_speedup'], F(4))
check('A pvDMT app', v['designs']['pvDMT']['app_speedup'], F(20, 11))
check('A FPT walk', v['designs']['FPT']['walk_speedup'], F(1, 2))
check('A FPT app', v['designs']['FPT']['app_speedup'], F(5, 8))
check('A ECPT walk', v['designs']['ECPT']['walk_speedup'], F(1))
check('A ASAP walk', v['designs']['ASAP']['walk_speedup'], F(6, 5))
# ASAP app: 1/(2/5 + 3/5 * 5/6) = 1/(2/5 + 1/2) = 10/9
check('A ASAP app', v['designs']['ASAP']['app_speedup'], F(10, 9))
check('A Agile (0 walk cycles) walk', v['designs']['Agile']['walk_speedup'], None)
check('A no shadow scheme', 'shadow' in v['designs'], False)
# native: ovh = 400 / (400 + 1000 + 200) = 1/4; DMT x4, app 1/(3/4 + 1/16) = 16/13
n = a['native']
check('A native ovh', n['ovh'], F(1, 4))
check('A native DMT walk', n['designs']['DMT']['walk_speedup'], F(4))
check('A native DMT app', n['designs']['DMT']['app_speedup'], F(16, 13))
# nested: ovh = 1000 / (1000 + 3000 + 1000) = 1/5; pvDMT x1/2, app 1/(4/5 + 2/5) = 5/6
ne = a['nested']
check('A nested ovh', ne['ovh'], F(1, 5))
check('A nested pvDMT walk', ne['designs']['pvDMT']['walk_speedup'], F(1, 2))
check('A nested pvDMT app', ne['designs']['pvDMT']['app_speedup'], F(5, 6))

b = M.cell_metrics(DOC_B)
check('B ovh', b['virtualized']['ovh'], F(1, 4))
check('B DMT walk', b['virtualized']['designs']['DMT']['walk_speedup'], F(8))
check('B DMT app', b['virtualized']['designs']['DMT']['app_speedup'], F(32, 25))
check('B pvDMT app', b['virtualized']['designs']['pvDMT']['app_speedup'], F(40, 31))
check('B has no native setup', 'native' in b, False)

# Instruction estimate 0: ovh = walk / (walk + data) = 1200 / 1800 = 2/3
check('A ovh insn=0', M.cell_metrics(DOC_A, 0)['virtualized']['ovh'], F(2, 3))
# 1/2 cycle: 1200 / (1200 + 600 + 50) = 24/37
check('A ovh insn=1/2', M.cell_metrics(DOC_A, F(1, 2))['virtualized']['ovh'], F(24, 37))

# Geometric means over A and B: DMT walk sqrt(2*8) = 4 exactly; pvDMT walk
# sqrt(4*10); DMT app sqrt(10/7 * 32/25) = sqrt(64/35).
s = M.summarize({'A': a, 'B': b})
check('gm DMT walk', s['virtualized']['DMT']['walk_speedup'], 4.0)
check('gm pvDMT walk', s['virtualized']['pvDMT']['walk_speedup'], math.sqrt(40))
check('gm DMT app', s['virtualized']['DMT']['app_speedup'], math.sqrt(64 / 35))
check('gm pvDMT app', s['virtualized']['pvDMT']['app_speedup'],
      math.sqrt(20 / 11 * 40 / 31))
check('gm FPT (A only)', s['virtualized']['FPT']['walk_speedup'], 0.5)
check('gm native DMT (A only)', s['native']['DMT']['walk_speedup'], 4.0)
check('gm Agile (no value)', s['virtualized']['Agile']['walk_speedup'], None)

# Claims on this summary
cl = {t: h for t, h, _e in M.claims(s)}
check('claim DMT > x86 virt', cl['DMT walks faster than x86 virtualized (2D)'], True)
check('claim pvDMT > DMT', cl['pvDMT walks faster than DMT virtualized'], True)
check('claim DMT > FPT', cl['DMT walks faster than FPT (virtualized)'], True)
check('claim Agile unmeasured', cl['DMT walks faster than Agile (virtualized)'], None)
check('claim nested app', cl['nested: pvDMT application speedup > 1'], False)

# --exit-cycles N: each VM exit (shadow_fills + shadow_invalidations) adds N
# cycles to its scheme's walk-side cost, in page-walk speedups, ovh and the
# application formula; walk_speedup_model stays the model's walk-cycle ratio.
# Cell C, nested: x86-nested-ept02 walk 1000, data 3000, 100 loads + 400
# stores (instructions 1000), 10 EPT02 fills; pvdmt-nested walk 2000, x86-3d
# 3000, no fills. Virtualized: x86-2d as A (walk 1200, data 600, 100
# accesses, no fills), x86-shadow walk 300 with 10 shadow fills and 5
# invalidations.
def schf(walk_cycles, fills, invalidations=0, **kw):
    return dict(sch(walk_cycles, **kw), shadow_fills=fills, shadow_invalidations=invalidations)


DOC_C = {'schema': 'dmtvm.counters/1', 'schemes': {
    'x86-nested-ept02': schf(1000, 10, data_cycles=3000, loads=100, stores=400),
    'pvdmt-nested': schf(2000, 0), 'x86-3d': schf(3000, 0),
    'x86-2d': schf(1200, 0, data_cycles=600, loads=60, stores=40), 'x86-shadow': schf(300, 10, 5),
}}
# N = 0 (the artifact's accounting): ovh 1000/5000 = 1/5; pvDMT x1/2 -> 1/(4/5
# + 2/5) = 5/6; x86-3D x1/3 -> 1/(4/5 + 3/5) = 5/7; shadow x4, ovh 3/5 -> 20/11.
for label, c0 in (('N=0', M.cell_metrics(DOC_C, 2, 0)),):
    check('C %s nested ovh' % label, c0['nested']['ovh'], F(1, 5))
    check('C %s nested exits' % label, c0['nested']['exits'], 10)
    check('C %s shadow exits (fills + invalidations)' % label,
          c0['virtualized']['designs']['shadow']['exits'], 15)
    check('C %s shadow walk' % label, c0['virtualized']['designs']['shadow']['walk_speedup'], F(4))
    check('C %s pvDMT app' % label, c0['nested']['designs']['pvDMT']['app_speedup'], F(5, 6))
    check('C %s x86-3D app' % label, c0['nested']['designs']['x86-3D']['app_speedup'], F(5, 7))
    check('C %s shadow app' % label, c0['virtualized']['designs']['shadow']['app_speedup'],
          F(20, 11))
# N = 1000: EPT02's walk side 1000 + 10 x 1000 = 11000: ovh 11000 / (11000 +
# 3000 + 1000) = 11/15; pvDMT 1/(4/15 + 11/15 x 2000/11000) = 5/2 (= time
# 15000 / (4000 + 2000)); x86-3D 15000 / (4000 + 3000) = 15/7. shadow's walk
# side 300 + 15 x 1000 = 15300: ovh stays 3/5 (x86-2d has no exits), walk
# 1200/15300 = 4/51, app 2000 / (800 + 15300) = 20/161. Walk speedups charged:
# pvDMT 11000/2000 = 11/2, x86-3D 11000/3000 = 11/3.
c1 = M.cell_metrics(DOC_C, 2, 1000)
check('C N=1000 nested ovh', c1['nested']['ovh'], F(11, 15))
check('C N=1000 pvDMT walk (model)', c1['nested']['designs']['pvDMT']['walk_speedup_model'],
      F(1, 2))
check('C N=1000 pvDMT walk (charged)', c1['nested']['designs']['pvDMT']['walk_speedup'],
      F(11, 2))
check('C N=1000 pvDMT app', c1['nested']['designs']['pvDMT']['app_speedup'], F(5, 2))
check('C N=1000 x86-3D walk (model)', c1['nested']['designs']['x86-3D']['walk_speedup_model'],
      F(1, 3))
check('C N=1000 x86-3D walk (charged)', c1['nested']['designs']['x86-3D']['walk_speedup'],
      F(11, 3))
check('C N=1000 x86-3D app', c1['nested']['designs']['x86-3D']['app_speedup'], F(15, 7))
check('C N=1000 virtualized ovh', c1['virtualized']['ovh'], F(3, 5))
check('C N=1000 shadow walk (model)',
      c1['virtualized']['designs']['shadow']['walk_speedup_model'], F(4))
check('C N=1000 shadow walk (charged)', c1['virtualized']['designs']['shadow']['walk_speedup'],
      F(4, 51))
check('C N=1000 shadow app', c1['virtualized']['designs']['shadow']['app_speedup'], F(20, 161))
check('C N=1000 walk-side cycles', M.walk_side_cycles(DOC_C['schemes']['x86-shadow'], 1000),
      F(15300))
# The default, 2000 cycles per exit (SplitX's direct exit cost): EPT02 walk
# side 1000 + 20000: ovh 21000 / 25000 = 21/25, pvDMT walk 21/2, app 25000 /
# (4000 + 2000) = 25/6; shadow 300 + 30000: walk 1200/30300 = 4/101.
cd = M.cell_metrics(DOC_C)
check('default exit cost', M.DEFAULT_EXIT_CYCLES, 2000)
check('C default nested ovh', cd['nested']['ovh'], F(21, 25))
check('C default pvDMT walk', cd['nested']['designs']['pvDMT']['walk_speedup'], F(21, 2))
check('C default pvDMT app', cd['nested']['designs']['pvDMT']['app_speedup'], F(25, 6))
check('C default shadow walk', cd['virtualized']['designs']['shadow']['walk_speedup'], F(4, 101))
cl1 = {t: h for t, h, _e in M.claims(M.summarize({'C': c1}))}
cl0 = {t: h for t, h, _e in M.claims(M.summarize({'C': M.cell_metrics(DOC_C, 2, 0)}))}
check('C nested app claim N=0 / N=1000', (cl0['nested: pvDMT application speedup > 1'],
                                           cl1['nested: pvDMT application speedup > 1']),
      (False, True))

# DMT coverage: walks without a fallback; 4 fallbacks of 10 walks -> 3/5;
# no walks -> None; more fallbacks than walks (two levels) -> 0, not negative.
cov = M.cell_metrics({'schemes': {'x86-2d': sch(10), 'dmt-virt': dict(sch(5), dmt_fallbacks=4),
                                  'pvdmt': dict(sch(5), dmt_fallbacks=25)}})['virtualized']
check('coverage 3/5', cov['designs']['DMT']['dmt_coverage'], F(3, 5))
check('coverage floor 0', cov['designs']['pvDMT']['dmt_coverage'], F(0))
check('coverage of a peer design absent', 'dmt_coverage' in cov['designs'].get('FPT', {}), False)
check('coverage without walks', M.dmt_coverage(sch(0, walks=0)), None)

# Comparability checks: different walk counts and skipped batches are flagged
bad = {'schemes': {'x86-2d': sch(10, walks=5), 'dmt-virt': sch(5, walks=6, skipped=3)}}
probs = M.cell_metrics(bad)['virtualized']['designs']['DMT']['problems']
check('problems flagged', len(probs), 2)

# The nested source: a nested run's L2 counters replace the cell's nested
# schemes (whatever the guest run or a replay put there), the others stay;
# L2's ROI must be the cell's (loads, stores, fetch records).
def roi(loads, stores, fetches, walk_cycles=1):
    return dict(sch(walk_cycles, loads=loads, stores=stores), fetches=fetches)


CELL = {'workload': 'gups', 'args': ['-m', '64K'], 'page': '4k', 'source': 'guest',
        'nested_command': ['replay'],
        'counters': {'schema': 'dmtvm.counters/1', 'schemes': {
            'x86-2d': roi(2048, 2048, 17), 'pvdmt': roi(2048, 2048, 17),
            'x86-nested-ept02': roi(2048, 2048, 17, 999), 'pvdmt-nested': roi(1, 1, 1)}}}
NCELL = {'args': ['-m', '64K'], 'command': ['dmtvm', 'run'], 'l1_mem': 1, 'l2_mem': 2,
         'elapsed_s': 0.5,
         'accesses': 4113, 'accesses_per_s': 8226, 'nested': {'l2_boot_us': 7},
         'counters': {'schema': 'dmtvm.counters/1', 'schemes': {
             'x86-nested-ept02': roi(2048, 2048, 17, 30), 'x86-3d': roi(2048, 2048, 17, 60),
             'pvdmt-nested': roi(2048, 2048, 17, 40)}}}
mc, probs = X.merge_nested(CELL, NCELL)
ms = mc['counters']['schemes']
check('merge: schemes', sorted(ms), ['pvdmt', 'pvdmt-nested', 'x86-2d', 'x86-3d',
                                     'x86-nested-ept02'])
check('merge: nested walk cycles from L2', [ms[k]['walk_cycles'] for k in X.NESTED_SCHEMES],
      [30, 40, 60])
check('merge: others kept', ms['pvdmt'] is CELL['counters']['schemes']['pvdmt'], True)
check('merge: source recorded', (mc['nested_source'], mc['nested_run']['nested'],
                                 'nested_command' in mc), ('nested', {'l2_boot_us': 7}, False))
check('merge: input untouched', CELL['counters']['schemes']['x86-nested-ept02']['walk_cycles'],
      999)
check('merge: same ROI, no problem', probs, [])
NCELL['counters']['schemes']['x86-nested-ept02'] = roi(2048, 2047, 17)
_mc, probs = X.merge_nested(CELL, NCELL)
check('merge: ROI mismatch named', probs, ['gups 4k: L2 traced loads/stores/fetches '
                                           '2048/2047/17, the guest run 2048/2048/17'])
# L1 RAM = L2 RAM x 17/16 + 64 MiB, up to 2 MiB: 66M -> 136M, 384M -> 472M, 5184M -> 5572M
check('nested_l1_mem', [X.nested_l1_mem(m << 20) >> 20 for m in (66, 384, 5184)],
      [136, 472, 5572])

# A nested run with a shrunk footprint: labelled, and its ROI (other work)
# not compared with the cell's.
NCELL['args'] = ['-m', '32M']
mc, probs = X.merge_nested(dict(CELL, args=['-m', '64M']), NCELL)
check('merge: shrunk run labelled, not compared', (mc['nested_run']['resized'],
                                                   mc['nested_run']['args'], probs),
      (True, ['-m', '32M'], []))
# nested_args: -m halved until guest_mem fits (1G: 4G -> 512M, 704M of L2),
# -n kept; what fits stays (768M -> exactly 1024M)
check('nested_args 4G, 1G cap', X.nested_args(['-m', '4G', '-n', '8M'], 1 << 30),
      ['-m', '512M', '-n', '8M'])
check('nested_args 4G, default cap', X.nested_args(['-m', '4G', '-n', '8M']), ['-m', '4G', '-n', '8M'])
check('nested_args 768M, 1G cap', X.nested_args(['-m', '768M', '-n', '1'], 1 << 30),
      ['-m', '768M', '-n', '1'])
check('nested_args 80M cap', X.nested_args(['-n', '1', '-m', '16M'], 80 << 20),
      ['-n', '1', '-m', '8M'])
check('nested_args floor', X.nested_args(['-m', '64K'], X.NESTED_MIN_MEM), ['-m', '64K'])

print('%d failure(s)' % fails)
sys.exit(1 if fails else 0)
