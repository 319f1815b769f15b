"""dmt-eval reports: the Markdown tables (results.md) and PNG bar charts.

Tables follow the paper's presentation: per page-size setup and per
virtualization setup, page-walk speedup and application speedup of each
design over the x86 baseline of that setup, one row per workload plus the
geometric mean. Charts are drawn by gnuplot (Debian gnuplot-nox), which is
independent of the Python in use.
"""

import os
import shutil
import subprocess

from dmteval_metrics import SETUPS, claims

PAPER = {  # the paper's abstract, virtualized setup
    '4k': {'walk_speedup': 1.58, 'app_speedup': 1.20},
    'thp': {'walk_speedup': 1.65, 'app_speedup': 1.14},
}
PAGE_SHORT = {'4k': '4K', 'thp': 'THP'}
PAGE_TITLE = {'4k': '4 KiB pages (THP off)', 'thp': '2 MiB pages (THP on, host 2 MiB)'}


def fmt(x, nd=2):
    if x is None:
        return 'n/a'
    return '%.*f' % (nd, float(x))


def pct(x):
    return 'n/a' if x is None else '%.1f%%' % (100 * float(x))


def _designs(setup):
    for s, b, ds in SETUPS:
        if s == setup:
            return b, [label for label, _ in ds]
    raise KeyError(setup)


def _size(n):
    for suf, sh in (('G', 30), ('M', 20), ('K', 10)):
        if n and n % (1 << sh) == 0:
            return '%d%s' % (n >> sh, suf)
    return str(n)


def nested_note(p):
    """Where the nested rows come from, for their table titles and claim."""
    if p.get('nested_source') == 'nested':
        return ' (real nesting: L2 in L1 dmtvm, L0\'s model over L2 tables, EPT12, EPT01)'
    if p.get('source') == 'guest':
        return ' (replay of the guest run\'s trace over simos tables: no nesting)'
    return ' (replay over simos tables: no nesting)'


def exit_note(p):
    """What --exit-cycles N charged, for table titles, claims and charts
    ('' for N = 0: the artifact's accounting)."""
    n = p.get('exit_cycles') or 0
    return ', VM exits charged %d cycles each' % n if n else ''


def exit_label(p, label):
    """A design's column label: the designs that take VM exits in their
    translation (shadow paging, Agile's shadow part) are marked when the
    exits are charged."""
    return label + ' (+exits)' if p.get('exit_cycles') and label in ('shadow', 'Agile') else label


def markdown(results):
    """results: the dict written to results.json (floats). Returns Markdown."""
    out = ['# dmt-eval results', '']
    p = results['params']
    out.append('Sizes: `%s` (scale %s); trace source: %s; model: `%s` with `%s`; '
               'instruction estimate: %s cycles per traced load/store.' %
               (p['sizes'], p['scale'], p['trace_source'], p['replay'],
                ' '.join(p['replay_args']), p['insn_cycles_per_access']))
    out.append('')
    if p.get('nested_rows'):
        out.append('Nested rows: %s.' % p['nested_rows'])
        out.append('')
    out.append('Workload arguments: ' + '; '.join(
        '%s `%s`' % (w, ' '.join(a)) for w, a in p['workload_args'].items()))
    out.append('')
    out.append('Speedup = x86 baseline of the same setup / design (walk cycles); '
               'application speedup = 1 / ((1 - ovh) + ovh / walk speedup), '
               'ovh = the baseline\'s estimated walk overhead (README: how).')
    out.append('')
    if exit_note(p):
        out.append('Exit cost (`--exit-cycles`, from published measurements, not measured '
                   'here): every VM exit a scheme\'s translation takes (shadow / EPT02 fills '
                   'and shadow invalidations, the "exits" columns) adds %d cycles to its '
                   'walk-side cost: in page-walk speedups, in ovh = (walk + exits x %d) / '
                   '(that + data + instructions) of the baseline, and in lat_d / lat_x86. '
                   'Columns marked (+exits) and the nested baseline take exits; '
                   '`--exit-cycles 0` gives the artifact\'s accounting.' % (
                       p['exit_cycles'], p['exit_cycles']))
        out.append('')
    nw = p.get('nested_workload_args') or {}
    shrunk = ', '.join('%s `%s` (not `%s`)' % (w, ' '.join(a), ' '.join(p['workload_args'][w]))
                       for w, a in nw.items() if a != p['workload_args'][w])
    for page in p['thp']:
        page = 'thp' if page == 'on' else '4k'
        per = results['metrics'].get(page)
        if not per:
            continue
        out.append('## %s' % PAGE_TITLE[page])
        out.append('')
        gm = results['geomean'][page]
        if 'virtualized' in gm:
            v = gm['virtualized']
            out.append('Headline (virtualized, geometric mean) | page-walk speedup | '
                       'application speedup' + exit_note(p))
            out.append('--- | --- | ---')
            for d in ('DMT', 'pvDMT'):
                if d in v:
                    out.append('dmtvm %s | %s | %s' % (d, fmt(v[d]['walk_speedup']),
                                                       fmt(v[d]['app_speedup'])))
            out.append('paper (DMT, abstract) | %.2f | %.2f' % (
                PAPER[page]['walk_speedup'], PAPER[page]['app_speedup']))
            out.append('')
        for setup, _b, _ds in SETUPS:
            if not any(setup in m for m in per.values()):
                continue
            base, labels = _designs(setup)
            labels = [lb for lb in labels
                      if any(lb in m[setup]['designs'] for m in per.values() if setup in m)]
            for key, title in (('walk_speedup', 'page-walk speedup'),
                               ('app_speedup', 'application speedup')):
                note = ((exit_note(p) if setup != 'native' else '') +
                        (nested_note(p) if setup == 'nested' else ''))
                out.append('### %s %s, %s over %s%s' % (setup, PAGE_SHORT[page], title, base,
                                                        note))
                out.append('')
                if setup == 'nested' and shrunk:
                    out.append('Nested runs with a smaller footprint than the rows above '
                               '(L2 RAM <= %s): %s.' % (_size(p['nested_max_mem']), shrunk))
                    out.append('')
                # walk tables: walks (TLB misses) and the baseline's fill VM
                # exits (not charged by the formula); app tables: ovh.
                # and the fallbacks of the first DMT design (register misses,
                # VMAs without a TEA: those walks are radix walks).
                dmt = next((lb for lb in labels if 'DMT' in lb), None)
                extra = (['walk ovh'] if key == 'app_speedup' else
                         ['walks', base + ' exits'] +
                         ([dmt + ' fallbacks', dmt + ' coverage'] if dmt else []))
                out.append('| workload | ' + ' | '.join(
                    extra + [exit_label(p, lb) for lb in labels]) + ' |')
                out.append('|---' * (1 + len(extra) + len(labels)) + '|')
                for w, m in per.items():
                    if setup not in m:
                        continue
                    ms = m[setup]
                    first = (['%.1f%%' % (100 * ms['ovh'])] if key == 'app_speedup'
                             else [str(ms['walks']), str(ms.get('exits', 0))] +
                             ([str(ms['designs'].get(dmt, {}).get('dmt_fallbacks', 0)),
                               pct(ms['designs'].get(dmt, {}).get('dmt_coverage'))]
                              if dmt else []))
                    cells = [fmt(ms['designs'].get(lb, {}).get(key)) for lb in labels]
                    out.append('| %s | %s | %s |' % (w, ' | '.join(first), ' | '.join(cells)))
                g = gm.get(setup, {})
                out.append('| **geomean** | %s %s |' % ('| ' * len(extra), ' | '.join(
                    '**%s**' % fmt(g.get(lb, {}).get(key)) for lb in labels)))
                out.append('')
        out.append('### Claims (%s)' % PAGE_TITLE[page])
        out.append('')
        for text, holds, ev in claims(gm):
            mark = {True: 'holds', False: '**does not hold**', None: 'not measured'}[holds]
            if text.startswith('nested'):
                ev += '; ' + nested_note(p).strip()[1:-1] + exit_note(p)
            out.append('- %s: %s (%s)' % (text, mark, ev))
        out.append('')
        probs = sorted({'%s %s %s: %s' % (w, s, lb, '; '.join(d['problems']))
                        for w, m in per.items() for s, ms in m.items()
                        for lb, d in ms['designs'].items() if d['problems']})
        if probs:
            out.append('Warnings: ' + ' / '.join(probs))
            out.append('')
    if results.get('errors'):  # missing rows must say why
        out.append('## Errors (their rows are missing above)')
        out.append('')
        out.extend('- ' + e for e in results['errors'])
        out.append('')
    return '\n'.join(out) + '\n'


def _gp_quote(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def charts(results, outdir, gnuplot='gnuplot'):
    """Writes one PNG per (page size, setup, metric) into outdir: grouped
    bars, one group per workload plus the geometric mean, one bar per design.
    Returns the list of files written. Raises RuntimeError if gnuplot fails
    or is missing."""
    if not shutil.which(gnuplot):
        raise RuntimeError('gnuplot not found (Debian package gnuplot-nox; tools/setup-deps '
                           'installs it): charts not drawn')
    os.makedirs(outdir, exist_ok=True)
    written = []
    for page, per in results['metrics'].items():
        gm = results['geomean'][page]
        for setup, _b, _ds in SETUPS:
            if not any(setup in m for m in per.values()):
                continue
            base, labels = _designs(setup)
            labels = [lb for lb in labels
                      if any(lb in m[setup]['designs'] for m in per.values() if setup in m)]
            for key, ylabel in (('walk_speedup', 'page-walk speedup'),
                                ('app_speedup', 'application speedup')):
                stem = '%s-%s-%s' % (key.split('_')[0], page, setup)
                dat = os.path.join(outdir, stem + '.dat')
                png = os.path.join(outdir, stem + '.png')
                rows = [(w, m[setup]['designs']) for w, m in per.items() if setup in m]
                rows.append(('geomean', {lb: {key: v.get(key)} for lb, v in
                                         gm.get(setup, {}).items()}))
                with open(dat, 'w') as f:
                    f.write('# workload ' + ' '.join(_gp_quote(lb) for lb in labels) + '\n')
                    for w, ds in rows:
                        vals = [ds.get(lb, {}).get(key) for lb in labels]
                        f.write(_gp_quote(w) + ' ' + ' '.join(
                            'NaN' if v is None else '%.6f' % float(v) for v in vals) + '\n')
                plots = ', '.join(
                    '%s using %d%s title %s' % ('"' + dat + '"' if i == 0 else "''", i + 2,
                                                ':xtic(1)' if i == 0 else '', _gp_quote(lb))
                    for i, lb in enumerate(labels))
                script = '\n'.join([
                    'set terminal pngcairo size 1000,450 noenhanced font "sans,10"',
                    'set output %s' % _gp_quote(png),
                    'set title %s' % _gp_quote('%s, %s: %s over %s%s' % (
                        PAGE_TITLE[page], setup, ylabel, base,
                        exit_note(results['params']) if setup != 'native' else '')),
                    'set ylabel %s' % _gp_quote(ylabel + ' (x)'),
                    'set style data histograms',
                    'set style histogram clustered gap 1',
                    'set style fill solid 0.85 border -1',
                    'set boxwidth 0.9',
                    'set key outside right top',
                    'set grid ytics',
                    'set yrange [0:*]',
                    'set xtics nomirror',
                    'set datafile missing "NaN"',
                    'set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5',
                    'plot ' + plots, ''])
                r = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
                if r.returncode != 0 or not os.path.exists(png):
                    raise RuntimeError('gnuplot failed for %s: %s' % (png, r.stderr.strip()))
                written.append(png)
    return written
