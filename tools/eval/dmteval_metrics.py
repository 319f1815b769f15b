"""dmt-eval metrics: speedups from dmtvm.counters/1 documents (pure arithmetic).

Owns the mapping from the paper's comparison (DMT, pvDMT, FPT, ECPT, ASAP,
Agile against the x86 baseline of the same setup) to the model's scheme names,
the walk-overhead estimate and the artifact's application-speedup formula.
Ratios are exact fractions.Fraction values (tests compare them exactly); only
geometric means are floats.
"""

from fractions import Fraction
import math

# Setups in the paper's order of importance. Each: baseline scheme (the x86
# design of that setup) and the compared designs as (paper label, scheme).
SETUPS = [
    ('virtualized', 'x86-2d', [
        ('DMT', 'dmt-virt'), ('pvDMT', 'pvdmt'), ('FPT', 'fpt'),
        ('ECPT', 'ecpt'), ('ASAP', 'asap'), ('Agile', 'agile'),
        ('shadow', 'x86-shadow')]),
    ('native', 'x86-native', [('DMT', 'dmt-native'), ('FPT', 'fpt-native')]),
    ('nested', 'x86-nested-ept02', [('pvDMT', 'pvdmt-nested'), ('x86-3D', 'x86-3d')]),
]

# Default instruction-cost estimate: cycles charged per traced data access
# (load or store) for the instructions that are not memory accesses. Memory
# instructions are about a third of x86 instructions, so ~2 other
# instructions per access, charged 1 cycle each (IPC 1 outside memory).
DEFAULT_INSN_CYCLES_PER_ACCESS = Fraction(2)


class MetricsError(Exception):
    """A counters document lacks what the metrics need."""


def _scheme(doc, name):
    try:
        return doc['schemes'][name]
    except KeyError:
        raise MetricsError('counters have no scheme %r' % name) from None


# Default cycles charged per VM exit of a translation scheme (shadow and
# EPT02 fills, shadow invalidations): 2,000 cycles, the direct cost of one VMX
# exit and entry measured with KVM on a Xeon X5570 (Landau, Ben-Yehuda,
# Gordon, "SplitX: Split Guest/Hypervisor Execution on Multi-Core", WIOV
# 2011, Table 1). It leaves out the handler's own work (walking the guest
# table, filling the entry), which the same measurements put up to an order
# of magnitude higher: a lower bound (tools/eval/README.md "Exit cost").
DEFAULT_EXIT_CYCLES = 2000


def exits(s):
    """VM exits a scheme's translation caused: shadow_fills (x86-shadow's
    shadow-table fills, x86-nested-ept02's EPT02 fills, agile's shadow part)
    plus shadow_invalidations (guest page-table writes that the hypervisor
    traps to keep a shadow table in sync)."""
    return int(s.get('shadow_fills', 0)) + int(s.get('shadow_invalidations', 0))


def walk_side_cycles(s, exit_cycles=0):
    """A scheme's translation cost: walk_cycles plus exit_cycles per VM exit
    (exits()). A fill is a VM exit that the walk itself triggers (the
    hardware walk misses in the shadow / EPT02 table and the hypervisor fills
    it), an invalidation one that keeps the shadow in sync; both are
    translation cost. exit_cycles = 0 (the artifact's accounting) charges
    nothing."""
    return int(s['walk_cycles']) + Fraction(exit_cycles) * exits(s)


def dmt_coverage(s):
    """Share of a DMT design's walks that did not fall back to the radix walk:
    1 - dmt_fallbacks / walks (a fallback is a register miss or an unusable
    TEA entry at any level; a walk with two counts twice, so this is a lower
    bound). None without walks."""
    w = int(s['walks'])
    if not w:
        return None
    return max(Fraction(0), 1 - Fraction(int(s.get('dmt_fallbacks', 0)), w))


def walk_overhead(base, insn_cycles_per_access=DEFAULT_INSN_CYCLES_PER_ACCESS, exit_cycles=0):
    """Estimated fraction of run time spent in page walks for the baseline
    scheme's counters: walk / (walk + data + instructions), with
      walk = walk_side_cycles: walk_cycles (every walk reference at the
             latency of where it was served, page-walk-cache hits 1 cycle)
             + exit_cycles per VM exit,
      data = data_cycles (every access, fetches included, through the same
             cache model after translation; needs the model's cache_data = 1),
      instructions = insn_cycles_per_access * (loads + stores).
    Returns a Fraction in [0, 1]."""
    w = walk_side_cycles(base, exit_cycles)
    d = int(base['data_cycles'])
    n = int(base['loads']) + int(base['stores'])
    total = w + d + Fraction(insn_cycles_per_access) * n
    if total == 0:
        return Fraction(0)
    return Fraction(w) / total


def walk_speedup(base, other, exit_cycles=0):
    """Page-walk speedup of `other` over `base`: base walk-side cycles / other
    walk-side cycles (walk_side_cycles: walk cycles plus exit_cycles per VM
    exit; both schemes see the same TLB misses, so this is also the ratio of
    average translation latencies). None when undefined (no walks in `other`
    while `base` had some is reported as None too: not a measurement)."""
    wb, wo = walk_side_cycles(base, exit_cycles), walk_side_cycles(other, exit_cycles)
    if wo == 0:
        return Fraction(1) if wb == 0 else None
    return Fraction(wb) / Fraction(wo)


def app_speedup(ovh, wspeed):
    """The artifact's formula: 1 / ((1 - ovh) + ovh * lat_d / lat_x86), with
    lat_d / lat_x86 = 1 / walk speedup (with exits charged: 1 / the ratio of
    walk-side costs, and ovh the baseline's walk-side share: then the result
    is exactly the baseline's time over the design's, where the design's time
    is the baseline's non-walk time plus the design's walk-side cost)."""
    if wspeed is None:
        return None
    return 1 / ((1 - ovh) + ovh / wspeed)


def check_comparable(base, other):
    """Problems that make a comparison meaningless (empty list if none): the
    two schemes must have simulated the same accesses and TLB misses."""
    probs = []
    for k in ('accesses', 'walks'):
        if int(base[k]) != int(other[k]):
            probs.append('%s differs (%s vs %s)' % (k, base[k], other[k]))
    if int(other.get('skipped', 0)) or int(base.get('skipped', 0)):
        probs.append('skipped accesses (%s, %s)' % (base.get('skipped'), other.get('skipped')))
    return probs


def cell_metrics(doc, insn_cycles_per_access=DEFAULT_INSN_CYCLES_PER_ACCESS,
                 exit_cycles=DEFAULT_EXIT_CYCLES):
    """All comparisons of one replay (one workload, one page-size setup):
    {setup: {'baseline', 'ovh', 'walks', 'exits', 'designs': {label:
    {'scheme', 'walk_speedup', 'walk_speedup_model', 'app_speedup', 'exits',
    'dmt_fallbacks', 'dmt_coverage', 'problems'}}}}. Setups whose baseline is
    absent from the document are left out. exit_cycles: cycles charged per VM
    exit of each scheme (walk_side_cycles) in walk_speedup, ovh and
    app_speedup; walk_speedup_model is the model's walk-cycle ratio alone
    (exits not charged, the artifact's accounting)."""
    out = {}
    for setup, bname, designs in SETUPS:
        if bname not in doc.get('schemes', {}):
            continue
        base = _scheme(doc, bname)
        ovh = walk_overhead(base, insn_cycles_per_access, exit_cycles)
        ds = {}
        for label, sname in designs:
            if sname not in doc['schemes']:
                continue
            other = doc['schemes'][sname]
            ws = walk_speedup(base, other, exit_cycles)
            ds[label] = {'scheme': sname, 'walk_speedup': ws,
                         'walk_speedup_model': walk_speedup(base, other),
                         'app_speedup': app_speedup(ovh, ws),
                         'exits': exits(other),
                         'dmt_fallbacks': int(other.get('dmt_fallbacks', 0)),
                         'problems': check_comparable(base, other)}
            if 'DMT' in label:
                ds[label]['dmt_coverage'] = dmt_coverage(other)
        out[setup] = {'baseline': bname, 'ovh': ovh, 'walks': int(base['walks']),
                      'exits': exits(base), 'designs': ds}
    return out


def geomean(values):
    """Geometric mean of positive numbers (None entries skipped); None if empty."""
    vals = [Fraction(v) for v in values if v is not None]
    if not vals or any(v <= 0 for v in vals):
        return None
    prod = Fraction(1)
    for v in vals:
        prod *= v
    return float(prod) ** (1.0 / len(vals))


def summarize(per_workload):
    """per_workload: {workload: cell_metrics(...)} for one page-size setup.
    Returns {setup: {label: {'walk_speedup': gm, 'app_speedup': gm}}} of
    geometric means over the workloads that have the design."""
    out = {}
    for setup, _b, designs in SETUPS:
        s = {}
        for label, _sn in designs:
            ws = [m[setup]['designs'][label]['walk_speedup'] for m in per_workload.values()
                  if setup in m and label in m[setup]['designs']]
            aps = [m[setup]['designs'][label]['app_speedup'] for m in per_workload.values()
                   if setup in m and label in m[setup]['designs']]
            if ws:
                s[label] = {'walk_speedup': geomean(ws), 'app_speedup': geomean(aps)}
        if s:
            out[setup] = s
    return out


def claims(summary):
    """The paper's claims checked on one page-size summary: list of
    (claim, holds: bool or None when not measurable, evidence text)."""
    res = []

    def g(setup, label, key='walk_speedup'):
        return summary.get(setup, {}).get(label, {}).get(key)

    def add(text, a, b, an, bn):
        if a is None or b is None:
            res.append((text, None, 'not measured'))
        else:
            res.append((text, a > b, '%s %.3f vs %s %.3f' % (an, a, bn, b)))

    add('DMT walks faster than x86 natively', g('native', 'DMT'), 1.0,
        'DMT', 'x86-native')
    add('DMT walks faster than x86 virtualized (2D)', g('virtualized', 'DMT'), 1.0,
        'DMT', 'x86-2d')
    add('pvDMT walks faster than DMT virtualized', g('virtualized', 'pvDMT'),
        g('virtualized', 'DMT'), 'pvDMT', 'DMT')
    for peer in ('FPT', 'ECPT', 'ASAP', 'Agile'):
        for d in ('DMT', 'pvDMT'):
            add('%s walks faster than %s (virtualized)' % (d, peer),
                g('virtualized', d), g('virtualized', peer), d, peer)
    add('nested: pvDMT application speedup > 1', g('nested', 'pvDMT', 'app_speedup'), 1.0,
        'pvDMT', 'x86-nested-ept02')
    return res


def to_json(x):
    """Fractions -> floats, recursively (results.json)."""
    if isinstance(x, Fraction):
        return float(x)
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    return x


def finite(x):
    return x is not None and not (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))
