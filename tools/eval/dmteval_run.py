"""dmt-eval runs: workload sizes, the two sources, replays, the results directory.

Two sources of counters (--source):
  host   the host-traced build (build/workloads/NAME-trace, DMTVM_TRACE_OUT)
         replayed by `dmtvm replay` over simos-built tables (trace_source_host,
         run_cell);
  guest  one `dmtvm run --mode=pvdmt --schemes=all` per (workload, page size):
         the traced workload runs in ring 3 of dmtvm's guest kernel and the
         model walks the guest's real tables and dmtvm's real EPT
         (run_cell_guest).
Two sources of the nested rows (--nested-source; a non-nested run reports
the nested schemes with zero walks):
  nested one nested run per (workload, page size): `dmtvm run nested.img`
         boots L1, whose dmtvm runs NAME-trace in L2; L0's model walks L2's
         accesses over L2's tables, EPT12 (L1's) and EPT01 and reports them
         as counters.l2 (run_cell_nested; merged by merge_nested);
  replay the host replay's own nested schemes (host source), or a replay of
         the guest run's trace (--trace-out) over simos tables (guest source).

Results directory (resumable; every file is written to a temporary name and
renamed, so an interrupted run leaves no half file that counts as done):
  traces/NAME_ARGS.trc         host: the workload's trace (reused when present)
  traces/NAME_ARGS_PAGE.trc    guest: the run's trace, for the nested replay
  runs/NAME_ARGS_PAGE.json     host: one replay: metadata + dmtvm.counters/1
  runs/NAME_ARGS_PAGE_guest.json  guest: one run: metadata + dmtvm.counters/1
  runs/NAME_ARGS_PAGE_nested.json nested: one nested run: metadata + L2's
                               dmtvm.counters/1
  logs/NAME_ARGS[_PAGE][_guest|_nested|_l2].log  output of tracer / run /
                               replay / nested run
"""

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import time

WORKLOADS = ['gups', 'btree', 'xsbench', 'bfs', 'canneal', 'stream', 'kvstore']

# Workload arguments per size preset. `-m` is the footprint (what makes
# translation expensive: TLB reach, page-walk-cache and cache coverage of the
# tables), `-n` the work. bfs and stream trace their whole footprint per
# unit of work (records ~ -m x -n), so they stay smaller.
SIZES = {
    # workloads/meson.build's wl_tiny: instant, for tests.
    'tiny': {
        'gups': ['-m', '64K', '-n', '1024'], 'btree': ['-m', '64K', '-n', '1000'],
        'xsbench': ['-m', '256K', '-n', '1000'], 'bfs': ['-m', '64K', '-n', '2'],
        'canneal': ['-m', '64K', '-n', '1000'], 'stream': ['-m', '48K', '-n', '2'],
        'kvstore': ['-m', '64K', '-n', '1000'],
    },
    # --quick: ~2-4 M accesses each, 16-256 MiB footprints (<= 3 min total).
    'quick': {
        'gups': ['-m', '256M', '-n', '512K'], 'btree': ['-m', '256M', '-n', '32K'],
        'xsbench': ['-m', '256M', '-n', '8K'], 'bfs': ['-m', '16M', '-n', '1'],
        'canneal': ['-m', '256M', '-n', '16K'], 'stream': ['-m', '16M', '-n', '1'],
        'kvstore': ['-m', '256M', '-n', '16K'],
    },
    # default: GiB footprints (page tables no longer fit the caches), 27-61 M
    # accesses each (bfs needs 256M for a VMA >= 64 MiB, i.e. a TEA).
    # Estimated 5-10 min with --jobs 1 on the 2-core dev machine.
    'full': {
        'gups': ['-m', '4G', '-n', '8M'], 'btree': ['-m', '2G', '-n', '512K'],
        'xsbench': ['-m', '2G', '-n', '128K'], 'bfs': ['-m', '256M', '-n', '1'],
        'canneal': ['-m', '2G', '-n', '256K'], 'stream': ['-m', '256M', '-n', '1'],
        'kvstore': ['-m', '2G', '-n', '256K'],
    },
}

SUFFIX = {'': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}


def parse_num(s):
    s = s.strip().upper()
    if s and s[-1] in SUFFIX:
        return int(s[:-1]) * SUFFIX[s[-1]]
    return int(s)


def fmt_num(n):
    for suf in ('T', 'G', 'M', 'K'):
        if n % SUFFIX[suf] == 0 and n >= SUFFIX[suf]:
            return '%d%s' % (n // SUFFIX[suf], suf)
    return str(n)


# Workloads whose traced accesses already grow with -m (a BFS or a STREAM
# pass covers the whole footprint): --scale multiplies only their -m.
SCALE_M_ONLY = {'bfs', 'stream'}


def workload_args(name, sizes, scale):
    """The preset's arguments scaled so that footprint and traced accesses
    both grow about `scale` times: -m times scale, and -n times scale except
    for SCALE_M_ONLY. scale is a power of two, so gups' power-of-two table
    size stays one."""
    args = list(SIZES[sizes][name])
    scaled = ('-m',) if name in SCALE_M_ONLY else ('-m', '-n')
    for i in range(0, len(args) - 1):
        if args[i] in scaled:
            args[i + 1] = fmt_num(parse_num(args[i + 1]) * scale)
    return args


def cell_id(name, args):
    return name + '_' + ''.join(a.lstrip('-') for a in args)


class RunError(Exception):
    pass


def _atomic_json(path, obj):
    tmp = path + '.tmp.%d' % os.getpid()  # writers in other processes use other names
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)


def _load_json(path):
    """The JSON document at path; None when absent or damaged."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def count_records(path):
    """Records in a dmtvm binary trace (32-byte header, 8-byte records)."""
    return max(0, (os.path.getsize(path) - 32) // 8)


ADDR_NO_RANDOMIZE = 0x0040000  # linux/personality.h


def no_aslr():
    """The calling process and what it execs get no address-space layout
    randomization. A host trace holds the process's virtual addresses, from
    which simos builds the tables: with ASLR two traces of one run differ
    (and so do their walks, slightly); without it a trace, and the report,
    is reproducible (a cluster merge equals a local run). Best effort: left
    as is where personality(2) refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        cur = libc.personality(0xffffffff)
        if cur != -1:
            libc.personality(cur | ADDR_NO_RANDOMIZE)
    except (OSError, AttributeError):
        pass


def trace_source_host(build, name, args, out, log, max_bytes):
    """The host source's trace: the host-traced build
    `build/workloads/NAME-trace` with DMTVM_TRACE_OUT (ROI only, libc
    untraced). (The guest source runs the same program in the guest:
    run_cell_guest.) Writes `out`; raises RunError."""
    exe = os.path.join(build, 'workloads', name + '-trace')
    if not os.access(exe, os.X_OK):
        raise RunError('%s: traced workload not built (ninja -C %s)' % (exe, build))
    # The same environment bytes on every run (the trace named relative to
    # its directory, nothing else): the stack's addresses, which the trace
    # records, move with the environment's size. With no_aslr below a trace
    # is then the same on every machine and in every results directory.
    env = {'DMTVM_TRACE_OUT': os.path.basename(out)}

    def limit():  # the trace may not fill the disk: SIGXFSZ past max_bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
        no_aslr()
    with open(log, 'w') as lf:
        r = subprocess.run([os.path.abspath(exe)] + args, env=env, stdout=lf, stderr=lf,
                           preexec_fn=limit, cwd=os.path.dirname(os.path.abspath(out)))
    if r.returncode == -signal.SIGXFSZ or (os.path.exists(out)
                                           and os.path.getsize(out) >= max_bytes):
        raise RunError('%s %s: trace larger than --max-trace=%s; use a smaller preset or '
                       '--scale, or raise --max-trace' % (name, ' '.join(args),
                                                          fmt_num(max_bytes)))
    if r.returncode != 0:
        raise RunError('%s %s: exit status %d (see %s)' % (exe, ' '.join(args),
                                                           r.returncode, log))
    if not os.path.exists(out) or count_records(out) == 0:
        raise RunError('%s %s: wrote no trace records to %s' % (name, ' '.join(args), out))


def produce_trace(ctx, name, args):
    """Trace of (name, args) in the results directory; produced only if
    absent. Returns (path, records, seconds or None if reused)."""
    cid = cell_id(name, args)
    path = os.path.join(ctx['out'], 'traces', cid + '.trc')
    if os.path.exists(path):
        return path, count_records(path), None
    tmp = path + '.tmp'
    if os.path.exists(tmp):
        os.unlink(tmp)
    free = shutil.disk_usage(os.path.dirname(path)).free
    if free < ctx['max_trace'] + (512 << 20):
        raise RunError('%s: %s free in %s; a trace may take --max-trace=%s (+512M margin)'
                       % (name, fmt_num(free >> 20 << 20), os.path.dirname(path),
                          fmt_num(ctx['max_trace'])))
    t0 = time.monotonic()
    try:
        ctx['trace_source'](ctx['build'], name, args, tmp,
                            os.path.join(ctx['out'], 'logs', cid + '.trace.log'),
                            ctx['max_trace'])
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    os.replace(tmp, path)
    return path, count_records(path), time.monotonic() - t0


def replay_args(page):
    """Replay options per page-size setup. cache_data=1: data accesses go
    through the cache model too (data_cycles, needed for the walk overhead)."""
    a = ['--mode=all', '--report=json', '--quiet', '--set', 'cache_data=1']
    if page == 'thp':
        a.append('--thp')
    return a


def _stored_only(ctx, name, page):
    """A report from stored runs only (dmt-eval --merge): a run that is
    not stored is an error, never run here."""
    if ctx.get('stored_only'):
        raise RunError('%s %s: not run (its cell is not done or was refused)' % (name, page))


def _cell_path(ctx, name, args, page):
    # host cells keep their original names (older results directories resume)
    sfx = '_guest' if ctx.get('source') == 'guest' else ''
    return os.path.join(ctx['out'], 'runs', cell_id(name, args) + '_' + page + sfx + '.json')


def _load_cell(path):
    cell = _load_json(path)  # absent or damaged: None, run again
    if isinstance(cell, dict) and cell.get('counters', {}).get('schema') == 'dmtvm.counters/1':
        return cell
    return None


def cell_done(ctx, name, args, page):
    return _load_cell(_cell_path(ctx, name, args, page)) is not None


def _replay_json(cmd, log):
    """Run a dmtvm-replay command: stderr to log, stdout parsed as JSON."""
    with open(log, 'w') as lf:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=lf, text=True)
    if r.returncode != 0:
        raise RunError('%s: exit status %d (see %s)' % (' '.join(cmd), r.returncode, log))
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise RunError('%s: output is not JSON (%s)' % (' '.join(cmd), e)) from None


def _report_json(cmd, report):
    """The --report-file a `dmtvm run` command wrote."""
    try:
        with open(report) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RunError('%s: no JSON report (%s)' % (' '.join(cmd), e)) from None


def _counters(cmd, counters):
    """counters, when it is a dmtvm.counters/1 document."""
    if counters.get('schema') != 'dmtvm.counters/1':
        raise RunError('%s: counters schema %r, expected dmtvm.counters/1'
                       % (' '.join(cmd), counters.get('schema')))
    return counters


def run_cell(ctx, name, args, page, trace):
    """One replay of `trace` under every scheme; result cached in runs/.
    Returns (cell dict, fresh: bool)."""
    cid = cell_id(name, args) + '_' + page
    path = _cell_path(ctx, name, args, page)
    cell = _load_cell(path)
    if cell is not None:
        return cell, False
    _stored_only(ctx, name, page)
    if trace is None:
        raise RunError('%s %s: no trace' % (name, page))
    cmd = ctx['replay'] + replay_args(page) + [trace]
    log = os.path.join(ctx['out'], 'logs', cid + '.log')
    t0 = time.monotonic()
    counters = _counters(cmd, _replay_json(cmd, log))
    dt = time.monotonic() - t0
    acc = int(counters.get('replay', {}).get('trace', {}).get('simulated', 0))
    cell = {'workload': name, 'args': args, 'page': page, 'trace': trace,
            'command': cmd, 'elapsed_s': round(dt, 3), 'accesses': acc,
            'accesses_per_s': round(acc / dt) if dt > 0 else None, 'counters': counters}
    _atomic_json(path, cell)
    return cell, True


# --- the guest source ------------------------------------------------------

# Schemes that need nesting in the guest (a later issue): `dmtvm run` reports
# them with zero walks, so the guest source takes them from a replay.
NESTED_SCHEMES = ['x86-nested-ept02', 'pvdmt-nested', 'x86-3d']
MIB2 = 2 << 20


def guest_mem(args):
    """--mem for a guest run: the workload's footprint (-m) plus a quarter
    for its own slack and the guest kernel's tables, plus 64 MiB for the
    kernel and the image, rounded up to 2 MiB (vmm/README.md)."""
    foot = 0
    for i in range(len(args) - 1):
        if args[i] == '-m':
            foot = parse_num(args[i + 1])
    need = foot + foot // 4 + (64 << 20)
    return (need + MIB2 - 1) // MIB2 * MIB2


def guest_run_args(page, mem):
    """`dmtvm run` options per page-size setup: 4K = guest 4 KiB pages on
    4 KiB host pages; THP = guest THP on 2 MiB host pages (the 2D TLB entry
    is min(guest page, host page)). pvdmt mode: the guest's TEAs come from
    ALLOC_TEA (host-contiguous), so both dmt-virt and pvdmt are measured."""
    thp = page == 'thp'
    return ['--mode=pvdmt', '--schemes=all', '--mem=' + fmt_num(mem),
            '--thp=' + ('on' if thp else 'off'), '--host-pages=' + ('2m' if thp else '4k'),
            '--model-set=cache_data=1', '--report=json']


def nested_replay_args(page):
    a = ['--schemes=' + ','.join(NESTED_SCHEMES), '--report=json', '--quiet',
         '--set', 'cache_data=1']
    if page == 'thp':
        a.append('--thp')
    return a


def _run_capped(cmd, log, trace, max_bytes):
    """Runs a dmtvm command with its output in log; when it writes trace,
    kills it as soon as the trace reaches max_bytes. Returns (status, over).
    dmtvm is not run under RLIMIT_FSIZE: on the ptrace platform guest RAM is
    a memfd, which that limit caps too (a 5 GiB guest died of SIGXFSZ at 2
    GiB)."""
    over = False
    with open(log, 'w') as lf:
        p = subprocess.Popen(cmd, stdout=lf, stderr=lf)
        try:
            while True:
                try:
                    return p.wait(timeout=0.2 if trace else None), over
                except subprocess.TimeoutExpired:
                    if os.path.exists(trace) and os.path.getsize(trace) >= max_bytes:
                        over = True
                        p.kill()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def run_cell_guest(ctx, name, args, page):
    """One `dmtvm run` of NAME-trace ARGS in the guest (every non-nested
    scheme from its JSON report), plus, with --nested-source=replay, the
    replay of its trace for the nested schemes; result cached in runs/.
    Returns (cell dict, fresh: bool)."""
    replay = ctx.get('nested_source') == 'replay'
    path = _cell_path(ctx, name, args, page)
    cell = _load_cell(path)
    # a cell stored without the replay cannot serve --nested-source=replay
    if cell is not None and (not replay or 'nested_command' in cell):
        return cell, False
    _stored_only(ctx, name, page)
    cid = cell_id(name, args) + '_' + page
    trace = os.path.join(ctx['out'], 'traces', cid + '.trc')
    report = os.path.join(ctx['out'], 'logs', cid + '_guest.json')
    for f in (trace, report):
        if os.path.exists(f):
            os.unlink(f)
    free = shutil.disk_usage(os.path.dirname(trace)).free
    if free < ctx['max_trace'] + (512 << 20):
        raise RunError('%s: %s free in %s; a trace may take --max-trace=%s (+512M margin)'
                       % (name, fmt_num(free >> 20 << 20), os.path.dirname(trace),
                          fmt_num(ctx['max_trace'])))
    mem = guest_mem(args)
    cmd = ([ctx['dmtvm'], 'run'] + guest_run_args(page, mem) + ['--report-file=' + report] +
           (['--trace-out=' + trace] if replay else []) + [ctx['image'], '--',
                                                            name + '-trace'] + args)
    nested, ncmd, ndt = {}, None, 0.0
    log = os.path.join(ctx['out'], 'logs', cid + '_guest.log')
    t0 = time.monotonic()
    try:
        status, over = _run_capped(cmd, log, trace if replay else None, ctx['max_trace'])
        dt = time.monotonic() - t0
        if over or (os.path.exists(trace) and os.path.getsize(trace) >= ctx['max_trace']):
            raise RunError('%s %s: guest trace larger than --max-trace=%s; use a smaller '
                           'preset or --scale, or raise --max-trace'
                           % (name, ' '.join(args), fmt_num(ctx['max_trace'])))
        if status != 0:
            raise RunError('%s: exit status %d (see %s)' % (' '.join(cmd), status, log))
        rep = _report_json(cmd, report)
        counters = _counters(cmd, rep.get('counters') or {})
        if replay:  # nested rows: replay of this run's own trace (simos tables)
            ncmd = ctx['replay'] + nested_replay_args(page) + [trace]
            nlog = os.path.join(ctx['out'], 'logs', cid + '_nested.log')
            t1 = time.monotonic()
            nested = _replay_json(ncmd, nlog)
            ndt = time.monotonic() - t1
    finally:
        if os.path.exists(trace) and not ctx.get('keep_traces'):
            os.unlink(trace)
    # The run's own nested schemes saw no walks (no nesting in it): dropped;
    # the replay's (if any) take their place.
    schemes = {k: v for k, v in counters['schemes'].items() if k not in NESTED_SCHEMES}
    for k in NESTED_SCHEMES:
        if k in nested.get('schemes', {}):
            schemes[k] = nested['schemes'][k]
    counters = dict(counters, schemes=schemes)
    if replay:
        counters['nested_source'] = 'dmtvm replay of the guest run\'s trace (simos tables)'
    acc = int(schemes.get('x86-2d', {}).get('accesses', 0))
    run = {k: rep.get(k) for k in ('exit_status', 'mode', 'boot_us', 'run_us', 'total_us',
                                   'mem', 'exits', 'hypercalls')}
    tables = rep.get('tables') or {}
    cell = {'workload': name, 'args': args, 'page': page, 'source': 'guest',
            'command': cmd, 'elapsed_s': round(dt + ndt, 3),
            'guest_elapsed_s': round(dt, 3), 'accesses': acc,
            'accesses_per_s': round(acc / dt) if dt > 0 else None, 'guest': run,
            'tables': tables, 'counters': counters}
    if replay:
        cell.update(nested_command=ncmd, nested_elapsed_s=round(ndt, 3))
    _atomic_json(path, cell)
    os.unlink(report)
    return cell, True


# --- the nested source -----------------------------------------------------

NESTED_SOURCES = ('nested', 'replay')

# Largest L2 RAM of a nested run (L1 dmtvm pins it in pieces of at most
# 1 GiB, one memslot each): larger footprints are shrunk (nested_args). 8 GiB
# holds the full preset (L2 5184 MiB for gups 4G) on a 24 GiB host.
NESTED_MAX_MEM = 8 << 30
NESTED_MIN_MEM = 72 << 20  # guest_mem of a 4 KiB footprint (66M), with room


def nested_args(args, max_mem=NESTED_MAX_MEM):
    """The workload arguments of a nested run: the footprint -m halved until
    L2's RAM (guest_mem) fits max_mem (>= NESTED_MIN_MEM, so a fit exists);
    -n, the work, unchanged. Powers of two stay powers of two (gups' table)."""
    out = list(args)
    for i in range(len(out) - 1):
        if out[i] == '-m':
            while guest_mem(out) > max_mem and parse_num(out[i + 1]) > 4096:
                out[i + 1] = fmt_num(parse_num(out[i + 1]) // 2)
    return out


def nested_l1_mem(l2mem):
    """L0's --mem (L1's RAM) for a nested run: L2's RAM (pinned in L1) plus
    1/16 of it for L1's own tables of that RAM and EPT12, plus 64 MiB for
    L1's kernel, nested.img and L1 dmtvm's copy of /l2.img; 2 MiB multiple.
    (L1 dmtvm refuses an L2 --mem above L1's RAM.)"""
    need = l2mem + l2mem // 16 + (64 << 20)
    return (need + MIB2 - 1) // MIB2 * MIB2


def nested_run_args(page, l1mem):
    """L0's `dmtvm run` options: the nested schemes only (L1 traces nothing),
    L1's RAM; THP = L1 THP on 2 MiB host pages (EPT01 leaves), as the guest
    source's setups."""
    thp = page == 'thp'
    return ['--mode=pvdmt', '--schemes=' + ','.join(NESTED_SCHEMES),
            '--mem=' + fmt_num(l1mem), '--thp=' + ('on' if thp else 'off'),
            '--host-pages=' + ('2m' if thp else '4k'), '--model-set=cache_data=1',
            '--report=json']


def nested_l1_args(page, l2mem):
    """L1 dmtvm's options (words after `nested.img --`): L2 gets the guest
    source's --mem; THP = L2 THP on 2 MiB EPT12 leaves (with 4 KiB EPT12
    leaves an L2 2 MiB page would be cached in 4 KiB pieces)."""
    thp = page == 'thp'
    return ['dmtvm', 'run', '--no-seccomp', '--mode=pvdmt', '--mem=' + fmt_num(l2mem),
            '--thp=' + ('on' if thp else 'off'), '--ept12-pages=' + ('2m' if thp else '4k'),
            '/l2.img']


def _last_line(path):
    try:
        with open(path, errors='replace') as f:
            lines = [ln.strip() for ln in f if ln.strip()]
        return lines[-1][:300] if len(lines) > 1 else '(no output)'
    except OSError:
        return '(no log)'


def _nested_path(ctx, name, args, page):
    return os.path.join(ctx['out'], 'runs', cell_id(name, args) + '_' + page + '_nested.json')


def run_cell_nested(ctx, name, args, page):
    """One nested run of NAME-trace ARGS in L2 (L0 -> L1 dmtvm -> L2); L0's
    report's counters.l2 (dmtvm.counters/1: x86-nested-ept02, x86-3d,
    pvdmt-nested on L2's accesses) cached in runs/. Returns (cell, fresh)."""
    path = _nested_path(ctx, name, args, page)
    cell = _load_cell(path)
    if cell is not None:
        return cell, False
    _stored_only(ctx, name, page)
    cid = cell_id(name, args) + '_' + page
    report = os.path.join(ctx['out'], 'logs', cid + '_l2.json')
    if os.path.exists(report):
        os.unlink(report)
    l2mem = guest_mem(args)
    l1mem = nested_l1_mem(l2mem)
    cmd = ([ctx['dmtvm'], 'run'] + nested_run_args(page, l1mem) +
           ['--report-file=' + report, ctx['nested_image'], '--'] +
           nested_l1_args(page, l2mem) + ['--', name + '-trace'] + args)
    log = os.path.join(ctx['out'], 'logs', cid + '_l2.log')
    t0 = time.monotonic()
    with open(log, 'w') as lf:
        lf.write('$ %s\n' % ' '.join(cmd))
        lf.flush()
        r = subprocess.run(cmd, stdout=lf, stderr=lf)
    dt = time.monotonic() - t0
    if r.returncode != 0:  # the last line says which level failed and why
        raise RunError('exit status %d: %s (command and output: %s)'
                       % (r.returncode, _last_line(log), log))
    rep = _report_json(cmd, report)
    l2 = (rep.get('counters') or {}).get('l2') or {}
    if l2.get('schema') != 'dmtvm.counters/1':
        raise RunError('%s: no L2 counters (counters.l2 schema %r; did L2 trace?)'
                       % (' '.join(cmd), l2.get('schema')))
    missing = [k for k in NESTED_SCHEMES if k not in l2.get('schemes', {})]
    if missing:
        raise RunError('%s: L2 counters lack %s' % (' '.join(cmd), ','.join(missing)))
    acc = int(l2['schemes']['x86-nested-ept02'].get('accesses', 0))
    if acc == 0:
        raise RunError('%s: L2 traced no accesses' % ' '.join(cmd))
    nested = rep.get('nested') or {}
    run = {k: rep.get(k) for k in ('exit_status', 'mode', 'boot_us', 'run_us', 'total_us', 'mem')}
    run.update({k: nested.get(k) for k in ('l2_boot_us', 'reflected', 'reflected_by_reason',
                                           'reflected_us', 'l2_hypercalls_at_l0')})
    cell = {'workload': name, 'args': args, 'page': page, 'source': 'nested',
            'command': cmd, 'l1_mem': l1mem, 'l2_mem': l2mem, 'elapsed_s': round(dt, 3),
            'accesses': acc, 'accesses_per_s': round(acc / dt) if dt > 0 else None,
            'nested': run, 'counters': l2}
    _atomic_json(path, cell)
    os.unlink(report)
    return cell, True


def merge_nested(cell, ncell):
    """The cell whose nested schemes are the nested run's (L2's counters),
    with where they come from; and the problems found (with the same
    workload arguments, L2's ROI must be the same accesses as the cell's:
    loads, stores, fetch records; a run with a shrunk footprint, see
    nested_args, is labelled so and not compared)."""
    c = dict(cell)
    l2 = ncell['counters']['schemes']
    schemes = {k: v for k, v in cell['counters']['schemes'].items() if k not in NESTED_SCHEMES}
    schemes.update({k: l2[k] for k in NESTED_SCHEMES if k in l2})
    counters = dict(cell['counters'], schemes=schemes,
                    nested_source='nested run: L2 in L1 dmtvm; L0\'s model over L2 tables, '
                                  'EPT12 and EPT01')
    c['counters'] = counters
    c['nested_source'] = 'nested'
    c['nested_run'] = {k: ncell.get(k) for k in ('args', 'command', 'l1_mem', 'l2_mem',
                                                 'elapsed_s', 'accesses', 'accesses_per_s',
                                                 'nested')}
    resized = ncell.get('args') != cell.get('args')
    c['nested_run']['resized'] = resized
    for k in ('nested_command', 'nested_elapsed_s'):  # a stored replay's: not used
        c.pop(k, None)
    probs = []
    ref = next((cell['counters']['schemes'][k] for k in ('x86-2d', 'x86-native')
                if k in cell['counters']['schemes']), None)
    n = l2['x86-nested-ept02']
    if ref is not None and not resized and any(int(ref[k]) != int(n[k])
                                               for k in ('loads', 'stores', 'fetches')):
        probs.append('%s %s: L2 traced loads/stores/fetches %s/%s/%s, the %s run %s/%s/%s'
                     % (cell['workload'], cell['page'], n['loads'], n['stores'], n['fetches'],
                        cell.get('source', 'host'), ref['loads'], ref['stores'],
                        ref['fetches']))
    return c, probs
