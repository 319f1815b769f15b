"""dmt-eval runs: workload sizes, the trace source, replays, the results directory.

Results directory (resumable; every file is written to a temporary name and
renamed, so an interrupted run leaves no half file that counts as done):
  traces/NAME_ARGS.trc         the workload's trace (reused when present)
  runs/NAME_ARGS_PAGE.json     one replay: metadata + the dmtvm.counters/1 document
  logs/NAME_ARGS[_PAGE].log    stderr of the tracer / of the replay
"""

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
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)


def count_records(path):
    """Records in a dmtvm binary trace (32-byte header, 8-byte records)."""
    return max(0, (os.path.getsize(path) - 32) // 8)


def trace_source_host(build, name, args, out, log, max_bytes):
    """THE trace source (the only function that knows where traces come
    from). Today: the host-traced build `build/workloads/NAME-trace` with
    DMTVM_TRACE_OUT (ROI only, libc untraced). Later: the same workload run
    inside the dmtvm guest (`dmtvm run --trace-out`), so the trace also
    follows the guest kernel's real mappings. Writes `out`; raises RunError."""
    exe = os.path.join(build, 'workloads', name + '-trace')
    if not os.access(exe, os.X_OK):
        raise RunError('%s: traced workload not built (ninja -C %s)' % (exe, build))
    env = dict(os.environ, DMTVM_TRACE_OUT=out)

    def limit():  # the trace may not fill the disk: SIGXFSZ past max_bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    with open(log, 'w') as lf:
        r = subprocess.run([exe] + args, env=env, stdout=lf, stderr=lf, preexec_fn=limit)
    if r.returncode == -signal.SIGXFSZ or (os.path.exists(out)
                                           and os.path.getsize(out) >= max_bytes):
        raise RunError('%s %s: trace larger than --max-trace=%s; use a smaller '
                       'preset or --scale, or raise --max-trace' % (name, ' '.join(args), fmt_num(max_bytes)))
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


def _cell_path(ctx, name, args, page):
    return os.path.join(ctx['out'], 'runs', cell_id(name, args) + '_' + page + '.json')


def _load_cell(path):
    try:
        with open(path) as f:
            cell = json.load(f)
        if cell.get('counters', {}).get('schema') == 'dmtvm.counters/1':
            return cell
    except (OSError, ValueError):
        pass  # absent or damaged: run again
    return None


def cell_done(ctx, name, args, page):
    return _load_cell(_cell_path(ctx, name, args, page)) is not None


def run_cell(ctx, name, args, page, trace):
    """One replay of `trace` under every scheme; result cached in runs/.
    Returns (cell dict, fresh: bool)."""
    cid = cell_id(name, args) + '_' + page
    path = _cell_path(ctx, name, args, page)
    cell = _load_cell(path)
    if cell is not None:
        return cell, False
    if trace is None:
        raise RunError('%s %s: no trace' % (name, page))
    cmd = ctx['replay'] + replay_args(page) + [trace]
    log = os.path.join(ctx['out'], 'logs', cid + '.log')
    t0 = time.monotonic()
    with open(log, 'w') as lf:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=lf, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RunError('%s: exit status %d (see %s)' % (' '.join(cmd), r.returncode, log))
    try:
        counters = json.loads(r.stdout)
    except ValueError as e:
        raise RunError('%s: output is not JSON (%s)' % (' '.join(cmd), e)) from None
    if counters.get('schema') != 'dmtvm.counters/1':
        raise RunError('%s: schema %r, expected dmtvm.counters/1' % (' '.join(cmd),
                                                                     counters.get('schema')))
    acc = int(counters.get('replay', {}).get('trace', {}).get('simulated', 0))
    cell = {'workload': name, 'args': args, 'page': page, 'trace': trace,
            'command': cmd, 'elapsed_s': round(dt, 3), 'accesses': acc,
            'accesses_per_s': round(acc / dt) if dt > 0 else None, 'counters': counters}
    _atomic_json(path, cell)
    return cell, True
