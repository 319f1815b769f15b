"""dmt-eval on clusters: the matrix as independent cells, run by Slurm or GNU
parallel, merged into the report a local run writes (tools/eval/README.md,
"Running the evaluation on a cluster").

A cell is one (workload, page size) of the matrix: its guest run or host
trace + replay, and its nested run with --nested-source=nested. A cell runs
as `dmt-eval [the plan's options] --out DIR/cells/N --workloads W --thp T`,
i.e. dmt-eval's own resumable runner on a one-cell matrix, so a cell's runs/
files are exactly what a local run stores. The merge copies the done cells'
runs/ files into DIR/runs and lets dmt-eval write the report from them
(--stored-only: nothing is run), which is the code path of a local run.

Plan directory (on a file system that every node sees at the same path):
  plan.json           the manifest: schema dmtvm.eval-plan/1, the options
                      (canonical argv), the inputs (hashes), the cells with
                      their workload arguments, model options, inputs and
                      limits (memory, time; editable before --submit)
  jobs.txt            line N: the command of cell N (`dmt-eval --cell DIR N`)
  cells/N/            cell N's results directory (runs/, logs/), cell.log (its
                      dmt-eval output) and status.json (running / done /
                      failed, host, times, the inputs it saw, exit status)
  slurm/, parallel/   the scheduler's scripts, job ids, output files
  runs/, results.*,   the merge's results directory
  charts/
"""

import datetime
import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import dmteval_run as X

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EVAL = os.path.join(HERE, 'dmt-eval')
PLAN_SCHEMA = 'dmtvm.eval-plan/1'

# Limits of a cell's Slurm task, from its footprint: memory = the largest
# process of the cell (guest RAM, or L1's RAM for the nested run; the host
# source's tracer holds the footprint too) + CELL_MEM_SLACK for dmtvm, the
# model's caches and TLBs and python; time = CELL_TIME_BASE + CELL_TIME_PER_GIB
# per GiB of that memory, per run of the cell (the model's rate, a few
# M accesses/s, and the presets' accesses grow with the footprint).
CELL_MEM_SLACK = 512 << 20
CELL_MEM_ROUND = 256 << 20
CELL_TIME_BASE_MIN = 10
CELL_TIME_PER_GIB_MIN = 15
CELL_CPUS = 2  # a guest run's model uses 2 threads


class PlanError(Exception):
    pass


class Stopped(Exception):
    pass


def _slurm_job():
    """This Slurm task's job id as squeue takes it (ARRAY_TASK), or None."""
    e = os.environ
    if e.get('SLURM_ARRAY_JOB_ID') and e.get('SLURM_ARRAY_TASK_ID'):
        return '%s_%s' % (e['SLURM_ARRAY_JOB_ID'], e['SLURM_ARRAY_TASK_ID'])
    return e.get('SLURM_JOB_ID')


def die(msg, code=2):
    print('dmt-eval: ' + msg, file=sys.stderr)
    sys.exit(code)


def sha256(path):
    h = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for b in iter(lambda: f.read(1 << 20), b''):
                h.update(b)
    except OSError as e:
        return 'missing (%s)' % e.strerror
    return h.hexdigest()


def _code_hash():
    """dmt-eval's own code: the runner that makes the cells' commands and the
    report that reads them."""
    h = hashlib.sha256()
    for n in sorted(os.listdir(HERE)):
        if n == 'dmt-eval' or (n.startswith('dmteval_') and n.endswith('.py')):
            h.update(n.encode() + b'\0' + sha256(os.path.join(HERE, n)).encode() + b'\0')
    return h.hexdigest()


def _dmtvm_version(dmtvm):
    try:
        r = subprocess.run([dmtvm, '--version'], capture_output=True, text=True, timeout=30)
        return r.stdout.strip() or 'exit status %d' % r.returncode
    except OSError as e:
        return 'not runnable (%s)' % e.strerror


def canonical_argv(a):
    """The options of a parsed command line, every default resolved and
    every path absolute: what each cell and the merge run with."""
    argv = ['--sizes', a.sizes, '--workloads', ','.join(a.workloads), '--thp', ','.join(a.thp),
            '--scale', str(a.scale), '--insn-cycles', str(a.insn_cycles),
            '--exit-cycles', str(a.exit_cycles), '--max-trace', X.fmt_num(a.max_trace),
            '--source', a.source, '--nested-source', a.nested_source,
            '--nested-max-mem', X.fmt_num(a.nested_max_mem),
            '--build', os.path.abspath(a.build),
            '--replay', ' '.join([os.path.abspath(a.replay[0])] + a.replay[1:]),
            '--dmtvm', os.path.abspath(a.dmtvm), '--image', os.path.abspath(a.image),
            '--nested-image', os.path.abspath(a.nested_image)]
    if a.keep_traces:
        argv.append('--keep-traces')
    if a.no_charts:
        argv.append('--no-charts')
    return argv


def _input_values(a, names):
    """The current value of each named input: sha256 of a file, or a
    version string."""
    out = {}
    for n in names:
        if n == 'dmt-eval code':
            out[n] = _code_hash()
        elif n == 'dmtvm --version':
            out[n] = _dmtvm_version(a.dmtvm)
        elif n == 'dmtvm':
            out[n] = sha256(a.dmtvm)
        elif n == 'guest.img':
            out[n] = sha256(a.image)
        elif n == 'nested.img':
            out[n] = sha256(a.nested_image)
        elif n == 'replay':
            out[n] = sha256(a.replay[0])
        elif n.startswith('workload '):
            out[n] = sha256(os.path.join(a.build, 'workloads', n.split()[1]))
        else:
            raise PlanError('unknown input %r' % n)
    return out


def _cell_inputs(a, w):
    """The inputs one cell of workload w depends on."""
    names = ['dmt-eval code', 'workload %s-trace' % w]
    if a.source == 'guest' or a.nested_source == 'nested':
        names += ['dmtvm', 'dmtvm --version']
    if a.source == 'guest':
        names.append('guest.img')  # holds /bin/W-trace (the same build as above)
    if a.source == 'host' or a.nested_source == 'replay':
        names.append('replay')
    if a.nested_source == 'nested':
        names.append('nested.img')
    return names


def _model_args(a, w, page, wargs, nargs):
    """The model's configuration of the cell's runs: the exact options its
    dmtvm run / replay / nested run passes (the model's defaults are in the
    pinned binaries)."""
    m = {}
    if a.source == 'guest':
        m['guest_run'] = X.guest_run_args(page, X.guest_mem(wargs))
    else:
        m['replay'] = X.replay_args(page)
    if a.nested_source == 'nested':
        l2 = X.guest_mem(nargs)
        m['nested_run'] = X.nested_run_args(page, X.nested_l1_mem(l2))
        m['nested_l1'] = X.nested_l1_args(page, l2)
    elif a.source == 'guest':
        m['nested_replay'] = X.nested_replay_args(page)
    return m


def cell_limits(a, wargs, nargs):
    """(memory bytes, time minutes) of a cell's Slurm task; see CELL_MEM_SLACK."""
    mems = [X.guest_mem(wargs)]
    if a.nested_source == 'nested':
        mems.append(X.nested_l1_mem(X.guest_mem(nargs)))
    mem = max(mems) + CELL_MEM_SLACK
    mem = (mem + CELL_MEM_ROUND - 1) // CELL_MEM_ROUND * CELL_MEM_ROUND
    gib = -(-sum(mems) // (1 << 30))
    return mem, CELL_TIME_BASE_MIN * len(mems) + CELL_TIME_PER_GIB_MIN * gib


def fmt_minutes(m):
    return '%d:%02d:00' % (m // 60, m % 60)


def make_plan(a):
    """The manifest of parsed options `a` (dmt-eval's parse)."""
    argv = canonical_argv(a)
    cells, names = [], set()
    for t in a.thp:
        page = 'thp' if t == 'on' else '4k'
        for w in a.workloads:
            wargs = X.workload_args(w, a.sizes, a.scale)
            nargs = X.nested_args(wargs, a.nested_max_mem)
            mem, minutes = cell_limits(a, wargs, nargs)
            inputs = _cell_inputs(a, w)
            names.update(inputs)
            runs = [X.cell_id(w, wargs) + '_' + page + ('_guest' if a.source == 'guest' else '')]
            if a.nested_source == 'nested':
                runs.append(X.cell_id(w, nargs) + '_' + page + '_nested')
            cells.append({'n': len(cells) + 1, 'workload': w, 'page': page, 'thp': t,
                          'args': wargs,
                          'nested_args': nargs if a.nested_source == 'nested' else None,
                          'runs': runs, 'model': _model_args(a, w, page, wargs, nargs),
                          'inputs': inputs, 'limits': {'mem': X.fmt_num(mem),
                                                       'mem_mib': mem >> 20,
                                                       'time_min': minutes}})
    try:
        git = subprocess.run(['git', '-C', REPO, 'describe', '--always', '--dirty'],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        git = ''
    return {'schema': PLAN_SCHEMA, 'argv': argv, 'eval': EVAL,
            'inputs': _input_values(a, sorted(names)), 'cells': cells,
            'source_tree': git or None,  # informational: the binaries' hashes are pinned
            'planned': datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec='seconds')}


def _diff_manifest(ref, plan):
    """The options and inputs on which two plans differ (names)."""
    d = []
    if ref['argv'] != plan['argv']:
        ra, pa = _opts(ref['argv']), _opts(plan['argv'])
        d += ['option ' + k for k in sorted(set(ra) | set(pa)) if ra.get(k) != pa.get(k)]
    d += ['input ' + k for k in sorted(set(ref['inputs']) | set(plan['inputs']))
          if ref['inputs'].get(k) != plan['inputs'].get(k)]
    return d


def _opts(argv):
    out, i = {}, 0
    while i < len(argv):
        if i + 1 < len(argv) and not argv[i + 1].startswith('--'):
            out[argv[i]] = argv[i + 1]
            i += 2
        else:
            out[argv[i]] = True
            i += 1
    return out


def write_plan(a, dirname):
    d = os.path.abspath(dirname)
    os.makedirs(os.path.join(d, 'cells'), exist_ok=True)
    plan = make_plan(a)
    old = X._load_json(os.path.join(d, 'plan.json'))
    if old is not None:
        diff = _diff_manifest(old, plan)
        if diff:
            die('--plan %s: a plan with other inputs is there (%s differ); use another '
                'directory' % (d, ', '.join(diff)), 1)
        plan['planned'] = old['planned']
    X._atomic_json(os.path.join(d, 'plan.json'), plan)
    with open(os.path.join(d, 'jobs.txt.tmp'), 'w') as f:
        for c in plan['cells']:
            f.write(shlex.join([EVAL, '--cell', d, str(c['n'])]) + '\n')
    os.replace(os.path.join(d, 'jobs.txt.tmp'), os.path.join(d, 'jobs.txt'))
    print('dmt-eval: plan of %d cells in %s (jobs.txt, plan.json); run them with '
          '`dmt-eval --submit slurm|parallel %s` or each line of jobs.txt, then '
          '`dmt-eval --merge %s`' % (len(plan['cells']), d, d, d))
    for c in plan['cells']:
        print('dmt-eval: cell %d: %s %s (%s): --mem=%dM --time=%s' % (
            c['n'], c['workload'], c['page'], ' '.join(c['args']), c['limits']['mem_mib'],
            fmt_minutes(c['limits']['time_min'])))
    return 0


def load_plan(d):
    plan = X._load_json(os.path.join(d, 'plan.json'))
    if plan is None or plan.get('schema') != PLAN_SCHEMA:
        die('%s: no plan (plan.json of schema %s); make one with --plan' % (d, PLAN_SCHEMA), 2)
    return plan


def _cell(plan, d, n):
    try:
        n = int(n)
        return plan['cells'][n - 1] if n >= 1 else None
    except (ValueError, IndexError):
        die('--cell %s %s: expected a cell number 1..%d' % (d, n, len(plan['cells'])))


def cell_dir(d, n):
    return os.path.join(d, 'cells', str(n))


def status(d, n):
    s = X._load_json(os.path.join(cell_dir(d, n), 'status.json'))
    if s is not None:
        s['_path'] = os.path.join(cell_dir(d, n), 'status.json')
    return s


def status_of(s):
    """The status file of status s read again."""
    return X._load_json(s['_path']) if s and s.get('_path') else s


def _label(c):
    return '%s %s' % (c['workload'], c['page'])


def run_cell(d, n, parse):
    """Runs cell n of plan d here (after checking its inputs against the
    plan's); writes cells/N/status.json; one line on stdout."""
    d = os.path.abspath(d)
    plan = load_plan(d)
    c = _cell(plan, d, n)
    if c is None:
        die('--cell %s %s: expected a cell number 1..%d' % (d, n, len(plan['cells'])))
    n = c['n']
    cd = cell_dir(d, n)
    os.makedirs(cd, exist_ok=True)
    log = os.path.join(cd, 'cell.log')
    st = {'cell': n, 'workload': c['workload'], 'page': c['page'], 'host': socket.gethostname(),
          'pid': os.getpid(), 'log': log, 'rerun': shlex.join([EVAL, '--cell', d, str(n)]),
          'start': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
          'slurm_job': _slurm_job()}
    a = parse(plan['argv'])
    seen = _input_values(a, c['inputs'])
    st['inputs'] = seen
    diff = [k for k in c['inputs'] if seen[k] != plan['inputs'].get(k)]
    if diff:
        st.update(state='failed', rc=1, reason='inputs differ from the plan here: ' +
                  ', '.join('%s (%s, plan %s)' % (k, seen[k][:16], plan['inputs'].get(k, '')[:16])
                            for k in diff))
        X._atomic_json(os.path.join(cd, 'status.json'), st)
        print('dmt-eval: cell %d %s FAILED: %s; not run' % (n, _label(c), st['reason']))
        return 1
    prev = status(d, n)
    if prev and prev.get('inputs') != seen and os.path.isdir(os.path.join(cd, 'runs')):
        shutil.rmtree(os.path.join(cd, 'runs'))  # runs of other inputs: not resumed
    st['state'] = 'running'
    X._atomic_json(os.path.join(cd, 'status.json'), st)
    t0 = time.monotonic()
    cmd = [sys.executable, EVAL] + plan['argv'] + ['--out', cd, '--workloads', c['workload'],
                                                   '--thp', c['thp'], '--jobs', '1',
                                                   '--no-charts']

    def stopped(signum, frame):  # Slurm's time limit, scancel, parallel's kill
        raise Stopped(signal.Signals(signum).name)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stopped)
    rc, why = 0, None
    with open(log, 'w') as lf:
        lf.write('$ %s\n' % shlex.join(cmd))
        lf.flush()
        try:
            rc = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT).returncode
        except Stopped as e:  # subprocess.run has killed the child
            rc, why = 128 + getattr(signal, str(e)), 'stopped by %s (time limit, scancel or ' \
                'interrupt) after %.0f s' % (e, time.monotonic() - t0)
    dt = time.monotonic() - t0
    missing = [x for x in c['runs'] if not os.path.exists(os.path.join(cd, 'runs', x + '.json'))]
    st.update(end=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
              elapsed_s=round(dt, 3), rc=rc)
    if rc == 0 and not missing:
        st['state'] = 'done'
        X._atomic_json(os.path.join(cd, 'status.json'), st)
        print('dmt-eval: cell %d %s: done in %.1f s on %s' % (n, _label(c), dt, st['host']))
        return 0
    st['state'] = 'failed'
    st['reason'] = why or ('exit status %d: %s' % (rc, X._last_line(log)) if rc
                           else 'runs %s not stored' % ', '.join(missing))
    X._atomic_json(os.path.join(cd, 'status.json'), st)
    print('dmt-eval: cell %d %s FAILED (%s); log %s; rerun alone: %s'
          % (n, _label(c), st['reason'], log, st['rerun']))
    return rc if why else 1  # 128 + the signal when stopped


def _vanished(statuses):
    """The 'running' cells whose process is gone without a status: a Slurm
    job no longer in squeue (killed: memory, node failure), or a process of
    this host that no longer exists. {cell: reason}."""
    gone = {}
    running = {n: s for n, s in statuses.items() if s and s.get('state') == 'running'}
    jobs = {n: s['slurm_job'] for n, s in running.items() if s.get('slurm_job')}
    if jobs and shutil.which('squeue'):
        r = subprocess.run(['squeue', '-h', '-r', '-o', '%i', '-j', ','.join(jobs.values())],
                           capture_output=True, text=True)
        alive = set(r.stdout.split())
        if r.returncode == 0 or 'Invalid job id' in r.stderr:
            gone.update({n: 'its Slurm job %s ended without a status (killed: out of memory, '
                            'node failure?)' % j for n, j in jobs.items() if j not in alive})
    here = socket.gethostname()
    for n, s in running.items():
        if not s.get('slurm_job') and s.get('host') == here and s.get('pid'):
            try:
                os.kill(s['pid'], 0)
            except ProcessLookupError:
                gone[n] = 'its process %d ended without a status (killed?)' % s['pid']
            except PermissionError:
                pass
    for n in list(gone):  # finished between the two reads: not gone
        if (status_of(statuses[n]) or {}).get('state') != 'running':
            del gone[n]
    return gone


def progress(d, plan=None):
    """(counts by state, failed cells' statuses) of plan d; a running cell
    whose process vanished counts as failed."""
    plan = plan or load_plan(d)
    counts = {'done': 0, 'running': 0, 'failed': 0, 'pending': 0}
    failed = []
    statuses = {c['n']: status(d, c['n']) for c in plan['cells']}
    gone = _vanished(statuses)
    for c in plan['cells']:
        s = statuses[c['n']]
        if c['n'] in gone:
            s = dict(s, state='failed', reason=gone[c['n']])
        state = (s or {}).get('state', 'pending')
        counts[state] = counts.get(state, 0) + 1
        if state == 'failed':
            failed.append((c, s))
    return counts, failed


def progress_line(d, counts, total):
    return ('dmt-eval: %s: %d of %d cells done, %d running, %d failed, %d pending'
            % (d, counts['done'], total, counts['running'], counts['failed'], counts['pending']))


def show_status(d):
    d = os.path.abspath(d)
    plan = load_plan(d)
    counts, failed = progress(d, plan)
    print(progress_line(d, counts, len(plan['cells'])))
    for c, s in failed:
        print('dmt-eval: cell %d %s FAILED on %s: %s; log %s; rerun alone: %s'
              % (c['n'], _label(c), s.get('host'), s.get('reason'), s.get('log'), s.get('rerun')))
    gone = {c['n'] for c, _ in failed}
    for c in plan['cells']:
        s = status(d, c['n'])
        if s and s.get('state') == 'running' and c['n'] not in gone:
            print('dmt-eval: cell %d %s running on %s (pid %s) since %s; log %s'
                  % (c['n'], _label(c), s.get('host'), s.get('pid'), s.get('start'), s.get('log')))
    m = X._load_json(os.path.join(d, 'merge.json'))
    if m:
        print('dmt-eval: merged %s: %d cells, %d refused, %d missing (exit %d)'
              % (m['when'], m['merged'], len(m['refused']), len(m['missing']), m['rc']))
    return 0 if counts['failed'] == 0 else 1


# --- merge -----------------------------------------------------------------

def merge(dirs, out, main):
    """Results of the done cells of plans `dirs` (the first one's matrix and
    inputs are the reference) into `out`, by dmt-eval's own report code;
    refuses (one line each) cells whose recorded inputs, or whose plan's
    options or inputs, differ from the reference. Returns the exit status."""
    dirs = [os.path.abspath(x) for x in dirs]
    plans = [load_plan(x) for x in dirs]
    ref = plans[0]
    out = os.path.abspath(out or dirs[0])
    refused, missing, take = [], [], []
    for c in ref['cells']:
        found = None
        for d, p in zip(dirs, plans):
            pc = next((x for x in p['cells'] if (x['workload'], x['page']) ==
                       (c['workload'], c['page'])), None)
            s = status(d, pc['n']) if pc else None
            if not s or s.get('state') != 'done' or not all(os.path.exists(os.path.join(
                    cell_dir(d, pc['n']), 'runs', x + '.json')) for x in pc['runs']):
                continue
            diff = [k for k in _diff_manifest(ref, p) if k.startswith('option ')]
            if pc['args'] != c['args'] or pc['model'] != c['model']:
                diff.append('workload arguments / model options')
            seen = s.get('inputs') or {}
            diff += ['input %s (%s, the plan %s)' % (k, str(seen.get(k))[:16],
                                                     str(ref['inputs'].get(k))[:16])
                     for k in c['inputs'] if seen.get(k) != ref['inputs'].get(k)]
            if diff:
                refused.append('cell %d (%s) of %s: %s differ%s' % (
                    pc['n'], _label(c), d, ', '.join(diff), '' if len(diff) > 1 else 's'))
                continue
            found = (d, pc)
            break
        if found:
            take.append(found)
        else:
            missing.append(c)
    for line in refused:
        print('dmt-eval: merge: refused ' + line, file=sys.stderr)
    runs = os.path.join(out, 'runs')
    if os.path.isdir(runs):  # the merge's own copies only: rebuilt from the cells
        shutil.rmtree(runs)
    os.makedirs(runs)
    for d, pc in take:
        for x in pc['runs']:
            shutil.copyfile(os.path.join(cell_dir(d, pc['n']), 'runs', x + '.json'),
                            os.path.join(runs, x + '.json'))
    print('dmt-eval: merge: %d of %d cells from %s; %d refused, %d not done%s' % (
        len(take), len(ref['cells']), ', '.join(dirs), len(refused), len(missing),
        ''.join('; not done: cell %d (%s)' % (c['n'], _label(c)) for c in missing[:1]) +
        (' and %d more' % (len(missing) - 1) if len(missing) > 1 else '')), flush=True)
    rc = main(ref['argv'] + ['--out', out, '--stored-only'])
    rc = 1 if (refused or missing) else rc
    X._atomic_json(os.path.join(out, 'merge.json'), {
        'when': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'dirs': dirs, 'merged': len(take), 'refused': refused,
        'missing': ['cell %d (%s)' % (c['n'], _label(c)) for c in missing], 'rc': rc})
    return rc


# --- schedulers --------------------------------------------------------------

class Watcher:
    """Prints the plan's progress line whenever it changes, until stopped."""

    def __init__(self, d, plan, every=2.0):
        self.d, self.plan, self.every = d, plan, every
        self.stop_ev = threading.Event()
        self.last = None
        self.t = threading.Thread(target=self._loop, daemon=True)

    def poll(self):
        counts, _ = progress(self.d, self.plan)
        line = progress_line(self.d, counts, len(self.plan['cells']))
        if line != self.last:
            print(line, flush=True)
            self.last = line
        return counts

    def _loop(self):
        while not self.stop_ev.wait(self.every):
            self.poll()

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.t.join()
        self.poll()


def _failed_lines(d, plan):
    _, failed = progress(d, plan)
    for c, s in failed:
        print('dmt-eval: cell %d %s FAILED: %s; log %s; rerun alone: %s'
              % (c['n'], _label(c), s.get('reason'), s.get('log'), s.get('rerun')))
    return len(failed)


def submit_parallel(d, opts, main):
    """All cells with GNU parallel (--sshloginfile: on several hosts, which
    must see d and the build at the same paths), then the merge here."""
    d = os.path.abspath(d)
    plan = load_plan(d)
    if not shutil.which('parallel'):
        die('--submit parallel: GNU parallel is not installed (Debian `parallel`)', 1)
    pd = os.path.join(d, 'parallel')
    os.makedirs(pd, exist_ok=True)
    cmd = ['parallel', '--will-cite', '--joblog', os.path.join(pd, 'joblog')]
    if opts.jobs:
        cmd += ['--jobs', str(opts.jobs)]
    if opts.sshloginfile:
        cmd += ['--sshloginfile', os.path.abspath(opts.sshloginfile)]
    print('dmt-eval: %s < %s' % (shlex.join(cmd), os.path.join(d, 'jobs.txt')), flush=True)
    with open(os.path.join(d, 'jobs.txt')) as jobs, Watcher(d, plan):
        r = subprocess.run(cmd, stdin=jobs)
    nfail = _failed_lines(d, plan)
    if r.returncode != 0 and nfail == 0:
        print('dmt-eval: parallel exited with status %d (joblog %s)'
              % (r.returncode, os.path.join(pd, 'joblog')), file=sys.stderr)
    rc = merge([d], None, main)
    return 1 if (nfail or r.returncode) else rc


def _run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise PlanError('%s: exit status %d: %s' % (shlex.join(cmd), r.returncode,
                                                    (r.stderr or r.stdout).strip()))
    return r.stdout.strip()


def submit_slurm(d, opts):
    """One job array of the cells (each task's --mem and --time from its
    footprint) and a merge job after it (afterany: the cells that finished
    are merged, the failed ones named)."""
    d = os.path.abspath(d)
    plan = load_plan(d)
    for b in ('sbatch', 'scontrol', 'squeue'):
        if not shutil.which(b):
            die('--submit slurm: %s not found (Slurm clients, Debian slurm-client)' % b, 1)
    sd = os.path.join(d, 'slurm')
    os.makedirs(sd, exist_ok=True)
    cells = plan['cells']
    _, failed = progress(d, plan)
    dead = {c['n'] for c, _ in failed}
    todo, busy = [], []
    for c in cells:
        state = (status(d, c['n']) or {}).get('state')
        if state == 'running' and c['n'] not in dead:
            busy.append(c)
        elif state != 'done':
            todo.append(c)
    for c in busy:
        print('dmt-eval: cell %d %s is running (%s): not submitted again'
              % (c['n'], _label(c), (status(d, c['n']) or {}).get('slurm_job') or 'here'))
    if not todo:
        print('dmt-eval: all %d cells are done; merging' % len(cells))
    script = os.path.join(sd, 'cell.sh')
    with open(script, 'w') as f:
        f.write('#!/bin/sh\n# cell $SLURM_ARRAY_TASK_ID of %s\nexec %s --cell %s '
                '"$SLURM_ARRAY_TASK_ID"\n' % (d, shlex.quote(EVAL), shlex.quote(d)))
    os.chmod(script, 0o755)
    extra = [x for s in opts.sbatch_arg for x in shlex.split(s)]
    ids = {}
    try:
        if todo:
            mem = max(c['limits']['mem_mib'] for c in todo)
            tmin = max(c['limits']['time_min'] for c in todo)
            uniform = all((c['limits']['mem_mib'], c['limits']['time_min']) == (mem, tmin)
                          for c in todo)
            array = ','.join(str(c['n']) for c in todo)
            cmd = ['sbatch', '--parsable', '--array=' + array, '--job-name=dmt-eval-cell',
                   '--output=' + os.path.join(sd, 'cell-%a.out'), '--mem=%dM' % mem,
                   '--time=' + fmt_minutes(tmin), '--cpus-per-task=%d' % CELL_CPUS,
                   '--chdir=' + d] + ([] if uniform else ['--hold']) + extra + [script]
            print('dmt-eval: ' + shlex.join(cmd), flush=True)
            ids['cells'] = _run(cmd).split(';')[0]
            for c in todo:
                lim = c['limits']
                print('dmt-eval: cell %d %s: task %s_%d --mem=%dM --time=%s' % (
                    c['n'], _label(c), ids['cells'], c['n'], lim['mem_mib'],
                    fmt_minutes(lim['time_min'])))
                if not uniform and (lim['mem_mib'], lim['time_min']) != (mem, tmin):
                    _run(['scontrol', 'update', 'JobId=%s_%d' % (ids['cells'], c['n']),
                          'MinMemoryNode=%d' % lim['mem_mib'],
                          'TimeLimit=' + fmt_minutes(lim['time_min'])])
            if not uniform:
                _run(['scontrol', 'release', ids['cells']])
        dep = ['--dependency=afterany:' + ids['cells']] if 'cells' in ids else []
        cmd = (['sbatch', '--parsable', '--job-name=dmt-eval-merge', '--mem=1G', '--time=30',
                '--output=' + os.path.join(sd, 'merge.out'), '--chdir=' + d] + dep + extra +
               ['--wrap', shlex.join([EVAL, '--merge', d])])
        print('dmt-eval: ' + shlex.join(cmd), flush=True)
        ids['merge'] = _run(cmd).split(';')[0]
    except PlanError as e:
        die('--submit slurm: %s' % e, 1)
    X._atomic_json(os.path.join(sd, 'jobs.json'), ids)
    print('dmt-eval: job array %s (%d cells), merge job %s after it; progress: dmt-eval '
          '--status %s; outputs in %s' % (ids.get('cells', '-'), len(todo), ids['merge'], d, sd),
          flush=True)
    if not opts.wait:
        return 0
    with Watcher(d, plan):
        while _run(['squeue', '-h', '-o', '%i', '-j', ','.join(ids.values())]):
            time.sleep(2)
    _failed_lines(d, plan)
    m = X._load_json(os.path.join(d, 'merge.json'))
    if m is None:
        print('dmt-eval: the merge job %s wrote no merge.json (see %s)'
              % (ids['merge'], os.path.join(sd, 'merge.out')), file=sys.stderr)
        return 1
    print('dmt-eval: merged: %d cells, %d refused, %d not done; results in %s'
          % (m['merged'], len(m['refused']), len(m['missing']), d))
    return m['rc']


# --- command line ------------------------------------------------------------

MODES = ('--cell', '--merge', '--submit', '--status')


def dispatch(argv, main, parse):
    """dmt-eval --cell DIR N | --merge DIR [DIR...] [--out OUT] |
    --submit slurm|parallel DIR [...] | --status DIR."""
    import argparse
    p = argparse.ArgumentParser(prog='dmt-eval ' + argv[0])
    mode = argv[0]
    if mode == '--cell':
        p.add_argument('dir')
        p.add_argument('n')
        o = p.parse_args(argv[1:])
        return run_cell(o.dir, o.n, parse)
    if mode == '--status':
        p.add_argument('dir')
        return show_status(p.parse_args(argv[1:]).dir)
    if mode == '--merge':
        p.add_argument('dirs', nargs='+')
        p.add_argument('--out', default=None, help='results directory (default: the first DIR)')
        o = p.parse_args(argv[1:])
        return merge(o.dirs, o.out, main)
    p.add_argument('scheduler', choices=('slurm', 'parallel'))
    p.add_argument('dir')
    p.add_argument('--wait', action='store_true',
                   help='slurm: wait for the merge job, printing progress')
    p.add_argument('--sbatch-arg', action='append', default=[],
                   help='slurm: more sbatch options (e.g. "--partition=long"), repeatable')
    p.add_argument('--sshloginfile', default=None, help='parallel: hosts to run cells on')
    p.add_argument('--jobs', type=int, default=None, help='parallel: cells at once per host')
    o = p.parse_args(argv[1:])
    if o.scheduler == 'slurm':
        return submit_slurm(o.dir, o)
    return submit_parallel(o.dir, o, main)
