#!/usr/bin/env python3
"""dmt-eval's matrix on a cluster, end to end, against a local run of the
same tiny matrix (gups, stream x 4K, THP; the default guest and nested
sources): --plan writes jobs.txt and the manifest; the cells run through

  parallel  GNU parallel (--sshloginfile with the local host ':'); a cell
            made to fail (its dmtvm exits 9) is named with its log and rerun
            alone; a cell whose recorded inputs differ is refused at the
            merge in one line;
  slurm     a private single-node Slurm cluster started here (munged,
            slurmctld, slurmd on loopback, generated slurm.conf, temporary
            state; tests/eval/slurm_local.py), one job array + a merge job.

Either way the merged results.md and charts are byte-identical to the local
run's, and results.json equal but for measured times and the per-run file
paths. Exits 77 (skip, saying why) when no platform runs guests here or, for
slurm, when the daemons are not installed or cannot start.

usage: test_cluster.py parallel|slurm DMT_EVAL BUILD_DIR
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

MODE, EVAL, BUILD = sys.argv[1], os.path.realpath(sys.argv[2]), os.path.realpath(sys.argv[3])
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, '..'))
sys.path.insert(0, HERE)
import dmtvm_platform  # noqa: E402
import slurm_local  # noqa: E402

_why = dmtvm_platform.setup()
if _why:
    sys.exit(dmtvm_platform.skip(_why))
if MODE == 'parallel' and not shutil.which('parallel'):
    sys.exit(dmtvm_platform.skip('GNU parallel is not installed (Debian parallel; '
                                 'tools/setup-deps installs it)'))

from evaltest import check, finish, run_eval  # noqa: E402


# meson's timeout sends SIGTERM: leave through `finally` (daemons stopped)
signal.signal(signal.SIGTERM, lambda *_: sys.exit('test_cluster.py: SIGTERM'))
os.environ['SOURCE_DATE_EPOCH'] = '1700000000'  # results.json's "created", both runs
tmp = tempfile.mkdtemp(prefix='dmt-eval-cluster-')
os.chmod(tmp, 0o755)
FLAG = os.path.join(tmp, 'fail-stream')
WRAP = os.path.join(tmp, 'dmtvm')  # the real dmtvm, failing on stream while FLAG exists
with open(WRAP, 'w') as f:
    f.write('#!/bin/sh\nif [ -e %s ]; then case "$*" in *stream-trace*) '
            'echo "dmtvm: injected failure" >&2; exit 9;; esac; fi\nexec %s "$@"\n'
            % (FLAG, os.path.join(BUILD, 'vmm', 'dmtvm')))
os.chmod(WRAP, os.stat(WRAP).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
OPTS = ['--build', BUILD, '--sizes=tiny', '--workloads', 'gups,stream', '--thp', 'off,on',
        '--dmtvm', WRAP]


def run(*args, env=None, timeout=300):
    return run_eval(EVAL, args, timeout, env)


def normalized(path, root):
    """results.json without what a rerun measures anew (times, rates) and
    with the runs' own file paths (their results directory) as OUT."""
    with open(path) as f:
        doc = json.load(f)
    pat = re.compile(re.escape(root) + r'(/cells/\d+)?')

    def walk(x):
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()
                    if not re.search(r'(_s|_us|_per_s)$', k)}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str):
            return pat.sub('OUT', x)
        return x
    return walk(doc)


def same_report(local, merged, what):
    for name in ['results.md'] + ['charts/' + c for c in sorted(os.listdir(
            os.path.join(local, 'charts')))]:
        try:
            with open(os.path.join(local, name), 'rb') as a, \
                    open(os.path.join(merged, name), 'rb') as b:
                same = a.read() == b.read()
        except OSError as e:
            same = e
        check('%s: %s byte-identical to the local run\'s' % (what, name), same is True, same)
    a, b = normalized(os.path.join(local, 'results.json'), local), \
        normalized(os.path.join(merged, 'results.json'), merged)
    check('%s: results.json equal but for times and run paths' % what, a == b,
          [k for k in a if a.get(k) != b.get(k)])


cluster = None
if MODE == 'slurm':  # first: a cluster that cannot start skips the whole test
    try:
        cluster = slurm_local.SlurmCluster().__enter__()
    except slurm_local.SlurmUnavailable as e:
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(dmtvm_platform.skip('the Slurm daemons cannot run here: %s' % e))
    print('slurm: cluster up in %s' % cluster.dir, flush=True)
    cl = cluster
try:
    local = os.path.join(tmp, 'local')
    r = run(*OPTS, '--out', local)
    check('local run exits 0', r.returncode == 0, r.stdout + r.stderr)
    charts = sorted(os.listdir(os.path.join(local, 'charts')))
    check('local run drew charts', len(charts) >= 4, charts)

    plan = os.path.join(tmp, 'plan')
    r = run(*OPTS, '--plan', plan)
    check('--plan exits 0', r.returncode == 0, r.stdout + r.stderr)
    with open(os.path.join(plan, 'jobs.txt')) as f:
        jobs = f.read().splitlines()
    check('jobs.txt: one command line per cell (4)',
          jobs == ['%s --cell %s %d' % (EVAL, plan, n) for n in range(1, 5)], jobs)
    with open(os.path.join(plan, 'plan.json')) as f:
        man = json.load(f)
    inp = man['inputs']
    check('manifest pins dmtvm, images, workloads, code by sha256',
          all(re.fullmatch('[0-9a-f]{64}', inp.get(k, '')) for k in
              ('dmtvm', 'guest.img', 'nested.img', 'workload gups-trace',
               'workload stream-trace', 'dmt-eval code')), inp)
    check('manifest pins dmtvm --version', inp.get('dmtvm --version', '').startswith('dmtvm '),
          inp)
    c1 = man['cells'][0]
    check('cell 1: gups 4k, its model options and limits',
          (c1['workload'], c1['page'], c1['model']['guest_run'][:2], c1['limits']['mem_mib'],
           c1['limits']['time_min']) == ('gups', '4k', ['--mode=pvdmt', '--schemes=all'], 768,
                                         35), c1)
    check('--plan prints each cell\'s limits',
          re.search(r'^dmt-eval: cell 4: stream thp \(-m 48K -n 2\): --mem=768M '
                    r'--time=0:35:00$', r.stdout, re.M), r.stdout)
    r = run(*OPTS, '--exit-cycles', '0', '--plan', plan)
    check('--plan over a plan with other options: exit 1 naming the option',
          r.returncode == 1 and 'option --exit-cycles' in r.stderr, r.stderr)

    if MODE == 'parallel':
        # a cell on a host whose dmtvm is not the plan's fails before running
        with open(WRAP) as f:
            wrap = f.read()
        with open(WRAP, 'a') as f:
            f.write('# another build\n')
        r = run('--cell', plan, '1')
        check('a cell whose dmtvm differs from the plan\'s: exit 1, not run, named',
              r.returncode == 1 and re.match(r'dmt-eval: cell 1 gups 4k FAILED: inputs differ '
                                             r'from the plan here: dmtvm \(', r.stdout) and
              'dmtvm --version' not in r.stdout and
              not os.path.exists(os.path.join(plan, 'cells', '1', 'runs')), r.stdout + r.stderr)
        with open(WRAP, 'w') as f:
            f.write(wrap)

        logins = os.path.join(tmp, 'sshlogins')
        with open(logins, 'w') as f:
            f.write(':\n')  # GNU parallel's name for this host, no ssh
        open(FLAG, 'w').close()
        r = run('--submit', 'parallel', plan, '--sshloginfile', logins, '--jobs', '2')
        out = r.stdout + r.stderr
        check('parallel with a failing cell: exit 1', r.returncode == 1, out)
        failed = re.findall(r'^dmt-eval: cell (\d) stream (4k|thp) FAILED: exit status 1: .*; '
                            r'log (\S+); rerun alone: (.*)$', r.stdout, re.M)
        check('both stream cells named as failed, with log and rerun command',
              sorted((n, p) for n, p, _, _ in failed) == [('2', '4k'), ('4', 'thp')], out)
        check('progress line: 2 done, 2 failed',
              re.search(r'2 of 4 cells done, 0 running, 2 failed, 0 pending$', r.stdout, re.M),
              out)
        check('the failed cell\'s log shows the failure',
              failed and 'injected failure' in open(failed[0][2]).read(), failed)
        check('partial merge names the cells not done',
              'not done: cell 2 (stream 4k) and 1 more' in r.stdout, out)
        r = run('--status', plan)
        check('--status: 2 failed, exit 1', r.returncode == 1 and
              '2 of 4 cells done, 0 running, 2 failed, 0 pending' in r.stdout, r.stdout)
        os.unlink(FLAG)
        for n, _, _, rerun in failed:
            check('rerun alone is the --cell command', rerun == '%s --cell %s %s'
                  % (EVAL, plan, n), rerun)
            r = run('--cell', plan, n)
            check('cell %s rerun alone: exit 0' % n, r.returncode == 0 and
                  re.match(r'dmt-eval: cell %s stream \w+: done in' % n, r.stdout),
                  r.stdout + r.stderr)
        r = run('--status', plan)
        check('--status: all 4 done', r.returncode == 0 and
              '4 of 4 cells done, 0 running, 0 failed, 0 pending' in r.stdout, r.stdout)
        r = run('--merge', plan)
        check('--merge: exit 0', r.returncode == 0, r.stdout + r.stderr)
        same_report(local, plan, 'parallel')

        # a cell that ran with another dmtvm is refused, in one line
        sp = os.path.join(plan, 'cells', '3', 'status.json')
        with open(sp) as f:
            good = f.read()
        st = json.loads(good)
        st['inputs']['dmtvm'] = '0' * 64
        with open(sp, 'w') as f:
            json.dump(st, f)
        r = run('--merge', plan, '--out', os.path.join(tmp, 'refused'))
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith('dmt-eval: merge: refused')]
        check('merge refuses the cell whose dmtvm differs: exit 1, one line',
              r.returncode == 1 and len(lines) == 1 and
              lines[0].startswith('dmt-eval: merge: refused cell 3 (gups thp) of %s: input '
                                  'dmtvm (0000000000000000, the plan ' % plan), r.stderr)
        with open(sp, 'w') as f:
            f.write(good)
        # a cell rerun after its inputs changed redoes its runs (no resume)
        sp1 = os.path.join(plan, 'cells', '1', 'status.json')
        st = json.load(open(sp1))
        st['inputs']['guest.img'] = '1' * 64
        with open(sp1, 'w') as f:
            json.dump(st, f)
        r = run('--cell', plan, '1')
        log = open(os.path.join(plan, 'cells', '1', 'cell.log')).read()
        check('a cell rerun after an input changed runs afresh', r.returncode == 0 and
              'done earlier' not in log and re.search(r'\] gups 4k: [\d.]+ s', log), log)
        r = run('--cell', plan, '1')
        log = open(os.path.join(plan, 'cells', '1', 'cell.log')).read()
        check('... and rerun again resumes (2 runs done earlier)',
              r.returncode == 0 and log.count('done earlier') == 2, log)
        # a second plan directory of the same matrix: its done cells merge
        # with the first's (the first's win); other options are refused
        plan2 = os.path.join(tmp, 'plan2')
        r = run(*OPTS, '--exit-cycles', '0', '--plan', plan2)
        shutil.copytree(os.path.join(plan, 'cells', '1'), os.path.join(plan2, 'cells', '1'),
                        dirs_exist_ok=True)
        r = run('--merge', plan2, plan, '--out', os.path.join(tmp, 'two'))
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith('dmt-eval: merge: refused')]
        check('merge of two plans refuses the cell of other options, in one line',
              r.returncode == 1 and len(lines) == 3 and
              all('option --exit-cycles differs' in ln for ln in lines), r.stderr)

        # the host source (host traces replayed over simos tables): its
        # traces are reproducible (no ASLR, fixed environment), so the merge
        # equals a local run too
        hopts = ['--build', BUILD, '--sizes=tiny', '--workloads', 'gups',
                 '--source=host', '--nested-source=replay']
        hlocal, hplan = os.path.join(tmp, 'hlocal'), os.path.join(tmp, 'hplan')
        r = run(*hopts, '--out', hlocal)
        check('host source, local run: exit 0', r.returncode == 0, r.stdout + r.stderr)
        run(*hopts, '--plan', hplan)
        r = run('--submit', 'parallel', hplan)
        check('host source through parallel: exit 0', r.returncode == 0, r.stdout + r.stderr)
        same_report(hlocal, hplan, 'host source')

        # a cell stopped (SIGTERM: Slurm's time limit, scancel) says so; a
        # cell killed outright (SIGKILL: out of memory) is found gone
        plan3 = os.path.join(tmp, 'plan3')
        run(*OPTS, '--plan', plan3)

        def start_cell(n):
            p = subprocess.Popen([sys.executable, EVAL, '--cell', plan3, str(n)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 start_new_session=True)
            sp = os.path.join(plan3, 'cells', str(n), 'status.json')
            for _ in range(200):
                if os.path.exists(sp) and json.load(open(sp)).get('state') == 'running':
                    break
                time.sleep(0.05)
            return p
        p = start_cell(1)
        p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=60)[0]
        check('a cell stopped by SIGTERM: exit 143, named with its log',
              p.returncode == 143 and re.match(r'dmt-eval: cell 1 gups 4k FAILED \(stopped by '
                                               r'SIGTERM .*\); log \S+/cells/1/cell.log; rerun '
                                               r'alone: ', out), out)
        p = start_cell(2)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        r = run('--status', plan3)
        check('--status: the killed cell is failed, "ended without a status"',
              r.returncode == 1 and '0 of 4 cells done, 0 running, 2 failed, 2 pending' in
              r.stdout and re.search(r'^dmt-eval: cell 2 stream 4k FAILED on \S+: its process '
                                     r'\d+ ended without a status', r.stdout, re.M), r.stdout)
    else:
        r = run('--submit', 'slurm', plan, '--wait', env=cl.env, timeout=600)
        out = r.stdout + r.stderr
        check('--submit slurm --wait: exit 0', r.returncode == 0, out)
        check('one sbatch --array of the 4 cells',
              len(re.findall(r'^dmt-eval: sbatch .*--array=1,2,3,4 ', r.stdout,
                             re.M)) == 1, out)
        check('each cell\'s task limits printed',
              len(re.findall(r'^dmt-eval: cell \d (gups|stream) (4k|thp): task \d+_\d '
                             r'--mem=768M --time=0:35:00$', r.stdout, re.M)) == 4, out)
        check('a merge job depending on the array',
              re.search(r'^dmt-eval: sbatch .*--dependency=afterany:\d+ ', r.stdout,
                        re.M), out)
        check('progress reached 4 of 4 done',
              '4 of 4 cells done, 0 running, 0 failed, 0 pending' in r.stdout, out)
        cells = [json.load(open(os.path.join(plan, 'cells', str(n), 'status.json')))
                 for n in range(1, 5)]
        check('every cell ran as a Slurm task', all(c.get('slurm_job') for c in cells),
              cells)
        same_report(local, plan, 'slurm')

        # cells of other footprints: each task of the one array gets
        # its own limits, and is released from the hold (priority not 0)
        # (submitted to begin in an hour, then cancelled)
        big = os.path.join(tmp, 'big')
        r = run('--build', BUILD, '--sizes=quick', '--scale', '8', '--workloads',
                'gups,bfs', '--thp', 'off', '--plan', big)
        check('--plan quick x 8: exit 0', r.returncode == 0, r.stdout + r.stderr)
        r = run('--submit', 'slurm', big, '--sbatch-arg=--begin=now+1hour', env=cl.env)
        check('--submit slurm of two footprints: exit 0', r.returncode == 0,
              r.stdout + r.stderr)
        with open(os.path.join(big, 'slurm', 'jobs.json')) as f:
            ids = json.load(f)
        sj = subprocess.run(['scontrol', 'show', 'job', '-o', ids['cells']],
                            env=cl.env, capture_output=True, text=True).stdout
        tasks = {}
        for ln in sj.splitlines():
            kv = dict(w.split('=', 1) for w in ln.split() if '=' in w)
            tasks[kv.get('ArrayTaskId')] = (kv.get('MinMemoryNode'), kv.get('TimeLimit'),
                                            kv.get('Priority') != '0')
        check('per-task limits: gups 2G 3584M 1:50, bfs 128M 1024M 0:35, released',
              tasks == {'1': ('3.50G', '01:50:00', True),
                        '2': ('1G', '00:35:00', True)}, sj + repr(tasks))
        subprocess.run(['scancel', ids['cells'], ids['merge']], env=cl.env)

        # a running cell cancelled (scancel; its time limit is the same
        # SIGTERM) is failed with the reason; one killed outright
        # (SIGKILL, as by the OOM killer) is found gone from squeue
        def cancel(sig):
            p4 = os.path.join(tmp, 'cancel-' + sig)
            run(*OPTS, '--workloads', 'gups', '--thp', 'off', '--plan', p4)
            r = run('--submit', 'slurm', p4, env=cl.env)
            with open(os.path.join(p4, 'slurm', 'jobs.json')) as f:
                ids = json.load(f)
            sp = os.path.join(p4, 'cells', '1', 'status.json')
            for _ in range(600):
                if os.path.exists(sp) and json.load(open(sp)).get('state') == 'running':
                    break
                time.sleep(0.05)
            if sig == 'TERM':
                subprocess.run(['scancel', ids['cells']], env=cl.env)
            else:  # as the kernel's OOM killer would
                os.kill(json.load(open(sp))['pid'], signal.SIGKILL)
            for _ in range(600):
                if not subprocess.run(['squeue', '-h', '-j', ids['cells']], env=cl.env,
                                      capture_output=True, text=True).stdout.strip():
                    break
                time.sleep(0.1)
            subprocess.run(['scancel', ids['merge']], env=cl.env)
            return run('--status', p4, env=cl.env)
        r = cancel('TERM')
        check('scancel (SIGTERM) of a running cell: failed, stopped by SIGTERM',
              r.returncode == 1 and re.search(r'^dmt-eval: cell 1 gups 4k FAILED on \S+: '
                                              r'stopped by SIGTERM', r.stdout, re.M),
              r.stdout)
        r = cancel('KILL')
        check('SIGKILL of a running cell: failed, its Slurm job ended without a status',
              r.returncode == 1 and re.search(r'^dmt-eval: cell 1 gups 4k FAILED on \S+: '
                                              r'its Slurm job \d+_1 ended without a '
                                              r'status', r.stdout, re.M), r.stdout)
finally:
    if cluster:
        cluster.stop()  # its daemons, by pid, and its directory
    if not os.environ.get('DMT_EVAL_KEEP'):
        shutil.rmtree(tmp, ignore_errors=True)
finish()
