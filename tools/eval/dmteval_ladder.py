# SPDX-License-Identifier: MIT
"""dmt-eval --ladder: from the artifact's method to dmtvm's, one measured
step at a time.

Per page size, a table of the geometric-mean page-walk speedup of DMT and
pvDMT over x86 (virtualized: x86-2d; native: x86-native, DMT only), one row
per step:

  1. the artifact preset (--model-preset=artifact), designs by formula (the
     x86 baseline's `formula`, Formula.cs per walk), THP by formula from the
     4 KiB run (Formula.cs's 2M variants applied to the 4 KiB trajectory);
  2-6. one of the artifact's behaviours switched off per row (cumulative),
     ending at dmtvm's default configuration;
  7. THP simulated: a THP run (guest THP on 2 MiB host pages), designs still
     by formula (on its walks, with their real leaf levels);
  8. every design simulated (dmt-virt, pvdmt, dmt-native walk their own
     tables): dmtvm's default, dmt-eval's headline numbers.

Each row says what changed and what it did (the change of each geomean from
the row above). Runs: one per (workload, configuration) for 4 KiB (rows
1-6) and one THP run per workload (rows 7-8), in the guest (dmtvm run) or,
with --source=host, by replaying host traces; each stored under
OUT/ladder/ (resumable). All ratios are exact fractions until printed.
"""

import math
import os
import subprocess
import time
from fractions import Fraction

import dmteval_run as X

PRESET = 'artifact'

# Cumulative: row k + 2 switches off the artifact behaviours 0..k.
STEPS = [
    ('cache_fast_path=0', 'cache fast path off (a repeated line is served by its cache, '
     'not by memory)'),
    ('pwc_line_tags=0', 'walk caches tagged per entry, probed deepest first, holding the next '
     'table (not 8-entry lines probed and filled at every level)'),
    ('pwc_global=0', 'walk caches per vCPU (not global)'),
    ('pwc_data_walk=1', 'walk caches on the data gPA -> hPA walk (UDH)'),
    ('tlb_2m=1', '2 MiB TLB entries: dmtvm\'s default configuration'),
]
NCONF = len(STEPS) + 1  # configurations of the 4 KiB runs: 0 = the preset

# (column key, scheme of the baseline, formula design, simulated scheme)
DESIGNS = [('DMT virt', 'x86-2d', 'DMT', 'dmt-virt'),
           ('pvDMT virt', 'x86-2d', 'pvDMT', 'pvdmt'),
           ('DMT native', 'x86-native', 'DMT', 'dmt-native')]
KEEP = ('x86-2d', 'x86-native', 'dmt-virt', 'pvdmt', 'dmt-native')

LAT_KEYS = {'zero': None, 'pwc': 'lat_pwc', 'l1': 'lat_l1', 'l2': 'lat_l2', 'llc': 'lat_llc',
            'dram': 'lat_dram'}


def config_sets(k):
    return [s for s, _ in STEPS[:k]]


def rows():
    """(number, what changed, 4K source, THP source): a source is (how,
    configuration, page): how = formula | thp_formula | simulated."""
    last = NCONF - 1
    r = [(1, 'artifact preset (--model-preset=%s), designs by formula, THP by formula from '
          'the 4 KiB run' % PRESET, ('formula', 0, '4k'), ('thp_formula', 0, '4k'))]
    for k, (key, what) in enumerate(STEPS, 1):
        r.append((k + 1, '%s (%s)' % (what, key), ('formula', k, '4k'), ('thp_formula', k, '4k')))
    r.append((NCONF + 1, 'THP simulated: a THP run (guest THP, 2 MiB host pages), designs by '
              'formula', ('formula', last, '4k'), ('formula', last, 'thp')))
    r.append((NCONF + 2, 'every design simulated (dmt-virt, pvdmt, dmt-native): dmtvm default',
              ('simulated', last, '4k'), ('simulated', last, 'thp')))
    return r


# --- runs ------------------------------------------------------------------

def _path(ctx, name, args, page, k):
    return os.path.join(ctx['out'], 'ladder', '%s_%s_c%d_%s.json' % (
        X.cell_id(name, args), page, k, ctx['source']))


def run_ladder_cell(ctx, name, args, page, k):
    """One run of configuration k (the preset plus STEPS[:k]); cached.
    Returns (cell, fresh)."""
    path = _path(ctx, name, args, page, k)
    cell = X._load_json(path)
    if cell is not None:
        return cell, False
    sets = config_sets(k)
    cid = '%s_%s_c%d' % (X.cell_id(name, args), page, k)
    log = os.path.join(ctx['out'], 'logs', 'ladder_' + cid + '.log')
    t0 = time.monotonic()
    if ctx['source'] == 'guest':
        report = os.path.join(ctx['out'], 'logs', 'ladder_' + cid + '.json')
        cmd = ([ctx['dmtvm'], 'run'] + X.guest_run_args(page, X.guest_mem(args)) +
               ['--model-preset=' + PRESET] + ['--model-set=' + s for s in sets] +
               ['--report-file=' + report, ctx['image'], '--', name + '-trace'] + args)
        with open(log, 'w') as lf:
            r = subprocess.run(cmd, stdout=lf, stderr=lf)
        if r.returncode != 0:
            raise X.RunError('%s: exit status %d (see %s)' % (' '.join(cmd), r.returncode, log))
        counters = X._report_json(cmd, report).get('counters') or {}
        os.unlink(report)
    else:
        trace, _, _ = X.produce_trace(ctx, name, args)
        cmd = (ctx['replay'] + X.replay_args(page) + ['--model-preset=' + PRESET] +
               [x for s in sets for x in ('--set', s)] + [trace])
        counters = X._replay_json(cmd, log)
    X._counters(cmd, counters)
    schemes = counters.get('schemes', {})
    cell = {'workload': name, 'args': args, 'page': page, 'config': k, 'sets': sets,
            'preset': PRESET, 'source': ctx['source'], 'command': cmd,
            'elapsed_s': round(time.monotonic() - t0, 3),
            'model_config': counters.get('config', {}),
            'schemes': {s: schemes[s] for s in KEEP if s in schemes}}
    X._atomic_json(path, cell)
    return cell, True


# --- metrics ---------------------------------------------------------------

def _step_cycles(scheme, config):
    """Σ cycles of each trajectory step over the walks (outcome x latency)."""
    lat = {o: (0 if k is None else int(config[k])) for o, k in LAT_KEYS.items()}
    return {st: sum(int(n) * lat[o] for o, n in out.items())
            for st, out in scheme.get('trajectory_served', {}).items()}


def thp_formula(cell, base, design):
    """Formula.cs's 2M variants on a 4 KiB run's trajectory (the artifact's
    THP numbers): x86 = the guest levels 4..2 with host levels 4..2 each, and
    the data walk's host levels 4..2; DMT = G2H2 + G2 + UDH2, pvDMT = G2 +
    UDH2 (steps by x86 level: our G2 is the artifact's G3). Returns
    (x86 cycles, design cycles) summed over the walks."""
    c = _step_cycles(cell['schemes'][base], cell['model_config'])
    if base == 'x86-native':
        return c['G4'] + c['G3'] + c['G2'], c['G2']
    x86 = sum(c['G%d' % g] + sum(c['G%dH%d' % (g, h)] for h in (4, 3, 2)) for g in (4, 3, 2))
    x86 += c['UDH4'] + c['UDH3'] + c['UDH2']
    d = c['G2'] + c['UDH2'] + (c['G2H2'] if design == 'DMT' else 0)
    return x86, d


def speedup(cell, how, design):
    """Walk speedup of one design (DESIGNS row) in one cell, a Fraction or
    None (no walks)."""
    _, base, fdesign, sim = design
    sc = cell['schemes']
    if base not in sc:
        return None
    if how == 'simulated':
        x, d = int(sc[base]['walk_cycles']), int(sc.get(sim, {}).get('walk_cycles', 0))
    elif how == 'formula':
        f = sc[base].get('formula_cycles2', {})
        x, d = int(f.get('x86', 0)), int(f.get(fdesign, 0))
    else:
        x, d = thp_formula(cell, base, fdesign)
    return Fraction(x, d) if x and d else None


def geomean(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def compute(cells, workloads):
    """{page: [{row, what, sources, per-workload speedups, geomeans}]}."""
    by = {(c['workload'], c['page'], c['config']): c for c in cells}
    out = {}
    for pi, page in enumerate(('4k', 'thp')):
        table = []
        for num, what, s4, sthp in rows():
            how, k, run_page = (s4, sthp)[pi]
            per = {}
            for w in workloads:
                c = by.get((w, run_page, k))
                per[w] = {d[0]: (speedup(c, how, d) if c else None) for d in DESIGNS}
            geo = {d[0]: geomean([float(per[w][d[0]]) for w in workloads
                                  if per[w][d[0]] is not None]) for d in DESIGNS}
            table.append({'row': num, 'what': what, 'how': how, 'config': k,
                          'run_page': run_page, 'sets': config_sets(k), 'per_workload': {
                              w: {d: (None if v is None else str(v)) for d, v in p.items()}
                              for w, p in per.items()}, 'geomean': geo})
        out[page] = table
    return out


# --- report ----------------------------------------------------------------

def _fmt(v):
    return 'n/a' if v is None else '%.3f' % v


def _effect(prev, cur):
    if prev is None:
        return 'start'
    parts = []
    for d in DESIGNS:
        a, b = prev['geomean'][d[0]], cur['geomean'][d[0]]
        parts.append('%s %s' % (d[0], 'n/a' if a is None or b is None else '%+.3f' % (b - a)))
    return ', '.join(parts)


def markdown(lad, params):
    L = ['# dmt-eval --ladder: from the artifact\'s method to dmtvm\'s', '',
         'Geometric mean over %s of the page-walk speedup over x86 (virtualized: x86-2d; '
         'native: x86-native). Source: %s. Rows 1-%d: the artifact preset with one behaviour '
         'switched off per row (cumulative; mmu-model/README.md, "The artifact preset"); '
         '"by formula" = the x86 baseline\'s `formula` (Formula.cs per walk), "THP by formula '
         'from the 4 KiB run" = Formula.cs\'s 2M variants on the 4 KiB trajectory. '
         'Paper (abstract; README "Reproducing DMT"): virtualized walks 1.58 (4K), 1.65 (THP).'
         % (', '.join(params['workloads']), params['source_text'], NCONF), '']
    for page in ('4k', 'thp'):
        L += ['## %s' % ('4 KiB pages' if page == '4k' else 'THP (2 MiB pages)'), '',
              '| # | what changed | DMT virt | pvDMT virt | DMT native | what it did (vs the row '
              'above) |', '|---|---|---|---|---|---|']
        prev = None
        for r in lad[page]:
            L.append('| %d | %s | %s | %s | %s | %s |' % (
                r['row'], r['what'], _fmt(r['geomean']['DMT virt']),
                _fmt(r['geomean']['pvDMT virt']), _fmt(r['geomean']['DMT native']),
                _effect(prev, r)))
            prev = r
        L.append('')
    return '\n'.join(L)


def chart(lad, outdir):
    """charts/ladder-{4k,thp}.png (gnuplot); returns the paths."""
    paths = []
    for page in ('4k', 'thp'):
        dat = os.path.join(outdir, 'ladder-%s.dat' % page)
        png = os.path.join(outdir, 'ladder-%s.png' % page)
        with open(dat, 'w') as f:
            for r in lad[page]:
                f.write('%d %s\n' % (r['row'], ' '.join(
                    'NaN' if r['geomean'][d[0]] is None else '%.4f' % r['geomean'][d[0]]
                    for d in DESIGNS)))
        script = ('set terminal png size 900,500; set output "%s"; set key left top; '
                  'set title "dmt-eval --ladder, %s: geomean walk speedup over x86"; '
                  'set xlabel "ladder row (1 = artifact preset, %d = dmtvm default)"; '
                  'set ylabel "walk speedup"; set xtics 1; set grid; '
                  'plot "%s" using 1:2 with linespoints title "DMT virt", '
                  '"" using 1:3 with linespoints title "pvDMT virt", '
                  '"" using 1:4 with linespoints title "DMT native"'
                  % (png, '4 KiB' if page == '4k' else 'THP', len(lad[page]), dat))
        r = subprocess.run(['gnuplot', '-e', script], capture_output=True, text=True)
        os.unlink(dat)
        if r.returncode != 0:
            raise RuntimeError('gnuplot failed: %s' % r.stderr.strip())
        paths.append(png)
    return paths


def main(a, ctx, progress):
    """Runs the ladder of dmt-eval's options `a`; returns the error list."""
    os.makedirs(os.path.join(a.out, 'ladder'), exist_ok=True)
    wargs = {w: X.workload_args(w, a.sizes, a.scale) for w in a.workloads}
    jobs = [(w, '4k', k) for w in a.workloads for k in range(NCONF)]
    jobs += [(w, 'thp', NCONF - 1) for w in a.workloads]
    cells, errors = [], []
    for w, page, k in jobs:  # one at a time: a guest run uses both cores
        try:
            cell, fresh = run_ladder_cell(ctx, w, wargs[w], page, k)
        except X.RunError as e:
            errors.append(str(e))
            progress('ladder %s %s config %d FAILED: %s' % (w, page, k, e))
            continue
        progress('ladder %s %s config %d (%s): %s' % (
            w, page, k, ', '.join(['preset ' + PRESET] + cell['sets']),
            '%.1f s' % cell['elapsed_s'] if fresh else 'done earlier, skipped'))
        cells.append(cell)
    if ctx['source'] == 'host' and not a.keep_traces:
        for w in a.workloads:
            p = os.path.join(a.out, 'traces', X.cell_id(w, wargs[w]) + '.trc')
            if os.path.exists(p):
                os.unlink(p)
    lad = compute(cells, a.workloads)
    src = ('guest: dmtvm run of NAME-trace in the guest kernel (its real page tables)'
           if ctx['source'] == 'guest' else 'host traces replayed over simos tables')
    params = {'workloads': a.workloads, 'workload_args': wargs, 'sizes': a.sizes,
              'scale': a.scale, 'source': ctx['source'], 'source_text': src, 'preset': PRESET,
              'steps': [s for s, _ in STEPS]}
    doc = {'schema': 'dmtvm.ladder/1', 'params': params, 'ladder': lad, 'cells': cells,
           'errors': errors}
    X._atomic_json(os.path.join(a.out, 'ladder.json'), doc)
    with open(os.path.join(a.out, 'ladder.md'), 'w') as f:
        f.write(markdown(lad, params))
    if not a.no_charts:
        try:
            chart(lad, os.path.join(a.out, 'charts'))
        except (RuntimeError, OSError) as e:
            errors.append(str(e))
    return errors
