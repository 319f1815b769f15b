"""A private single-node Slurm cluster for tests: munged and slurmctld/slurmd
on loopback, a generated slurm.conf and all state in one temporary directory,
non-default ports; nothing of the system's own /etc/slurm or munge is used.

    with SlurmCluster() as c:     # raises SlurmUnavailable(reason) if it cannot start
        env = c.env               # SLURM_CONF for sbatch, squeue, scontrol
    # daemons killed (by their pids) and the directory removed on exit

Needs Debian's slurmctld, slurmd, slurm-client and munge (tools/setup-deps)
and root (slurmd launches jobs as their user).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BINARIES = ('munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'sinfo')


class SlurmUnavailable(Exception):
    pass


def _free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _mem_mib():
    with open('/proc/meminfo') as f:
        for ln in f:
            if ln.startswith('MemTotal:'):
                return int(ln.split()[1]) // 1024
    return 1024


class SlurmCluster:
    NODE = 'dmteval1'

    def __init__(self, cpus=None):
        self.cpus = cpus or os.cpu_count() or 1
        self.procs = []
        self.dir = None
        self.env = None

    def _log_tail(self, name):
        try:
            with open(os.path.join(self.dir, name), errors='replace') as f:
                lines = [ln.strip() for ln in f if ln.strip()]
            return lines[-1] if lines else '(empty log)'
        except OSError:
            return '(no log)'

    def __enter__(self):
        missing = [b for b in BINARIES if not shutil.which(b) and
                   not os.access('/usr/sbin/' + b, os.X_OK)]
        if missing:
            raise SlurmUnavailable('not installed: %s (Debian slurmctld slurmd slurm-client '
                                   'munge; tools/setup-deps installs them)' % ' '.join(missing))
        if os.geteuid() != 0:
            raise SlurmUnavailable('slurmd must run as root to launch jobs (uid %d)'
                                   % os.geteuid())
        self.dir = tempfile.mkdtemp(prefix='dmt-slurm-')
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _sbin(self, b):
        return shutil.which(b) or '/usr/sbin/' + b

    def _start(self):
        d = self.dir
        for sub in ('munge', 'state', 'spool'):
            os.makedirs(os.path.join(d, sub), mode=0o700)
        key = os.path.join(d, 'munge', 'munge.key')
        with open(key, 'wb') as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = os.path.join(d, 'munge', 'munge.socket')
        munged = [self._sbin('munged'), '--foreground', '--force', '--socket=' + sock,
                  '--key-file=' + key, '--pid-file=' + os.path.join(d, 'munge', 'munged.pid'),
                  '--log-file=' + os.path.join(d, 'munged.log'),
                  '--seed-file=' + os.path.join(d, 'munge', 'seed')]
        self._spawn(munged, 'munged.out')
        self._wait(lambda: os.path.exists(sock), 10, 'munged',
                   'munged.log', 'munge socket %s never appeared' % sock)
        cport, dport = _free_port(), _free_port()
        mem = max(256, _mem_mib() * 3 // 4)
        conf = os.path.join(d, 'slurm.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join([
                'ClusterName=dmteval',
                'SlurmctldHost=%s(127.0.0.1)' % socket.gethostname(),
                'SlurmctldPort=%d' % cport,
                'SlurmdPort=%d' % dport,
                'SlurmUser=root',
                'SlurmdUser=root',
                'AuthType=auth/munge',
                'CredType=cred/munge',
                'AuthInfo=socket=%s' % sock,
                'StateSaveLocation=%s' % os.path.join(d, 'state'),
                'SlurmdSpoolDir=%s' % os.path.join(d, 'spool'),
                'SlurmctldPidFile=%s' % os.path.join(d, 'slurmctld.pid'),
                'SlurmdPidFile=%s' % os.path.join(d, 'slurmd.pid'),
                'SlurmctldLogFile=%s' % os.path.join(d, 'slurmctld.log'),
                'SlurmdLogFile=%s' % os.path.join(d, 'slurmd.log'),
                'ProctrackType=proctrack/linuxproc',
                'TaskPlugin=task/none',
                'JobAcctGatherType=jobacct_gather/none',
                'AccountingStorageType=accounting_storage/none',
                'SelectType=select/cons_tres',
                'SelectTypeParameters=CR_Core_Memory',
                'MpiDefault=none',
                'ReturnToService=2',
                'SchedulerType=sched/builtin',
                'SlurmctldTimeout=30',
                'SlurmdTimeout=30',
                'MinJobAge=300',
                'NodeName=%s NodeHostname=%s NodeAddr=127.0.0.1 CPUs=%d RealMemory=%d '
                'State=UNKNOWN' % (self.NODE, socket.gethostname(), self.cpus, mem),
                'PartitionName=dmteval Nodes=%s Default=YES MaxTime=INFINITE State=UP'
                % self.NODE, '']))
        self.env = dict(os.environ, SLURM_CONF=conf)
        self._spawn([self._sbin('slurmctld'), '-D', '-i', '-f', conf], 'slurmctld.out')
        self._spawn([self._sbin('slurmd'), '-D', '-N', self.NODE, '-f', conf], 'slurmd.out')

        def idle():
            r = subprocess.run(['sinfo', '-h', '-N', '-o', '%t'], env=self.env,
                               capture_output=True, text=True)
            return r.returncode == 0 and r.stdout.strip() in ('idle', 'mix', 'alloc')
        self._wait(idle, 30, 'slurmd', 'slurmd.log', 'node %s never became idle' % self.NODE)

    def _spawn(self, cmd, out):
        with open(os.path.join(self.dir, out), 'w') as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((os.path.basename(cmd[0]), p, out))

    def _wait(self, ready, seconds, name, log, what):
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            for b, p, out in self.procs:
                if p.poll() is not None:
                    raise SlurmUnavailable('%s exited with status %d: %s | %s' % (
                        b, p.returncode, self._log_tail(out),
                        self._log_tail(b + '.log')))
            if ready():
                return
            time.sleep(0.2)
        raise SlurmUnavailable('%s: %s within %d s: %s' % (name, what, seconds,
                                                           self._log_tail(log)))

    def cancel_all(self, seconds=20):
        """Cancels every job of this cluster and waits until they are gone,
        so that no slurmstepd outlives the daemons."""
        if not self.env or not any(b == 'slurmctld' and p.poll() is None
                                   for b, p, _ in self.procs):
            return
        def jobs():
            r = subprocess.run(['squeue', '-h', '-o', '%A'], env=self.env,
                               capture_output=True, text=True)
            return r.stdout.split() if r.returncode == 0 else []
        ids = jobs()
        if ids:
            subprocess.run(['scancel', '--full'] + ids, env=self.env, capture_output=True)
        t_end = time.monotonic() + seconds
        while ids and time.monotonic() < t_end:
            time.sleep(0.2)
            ids = jobs()

    def stop(self):
        self.cancel_all()
        for b, p, out in reversed(self.procs):  # by pid, never by name
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        self.procs = []
        if self.dir and not os.environ.get('DMT_SLURM_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == '__main__':  # smoke: start, show the node, run one job, stop
    with SlurmCluster() as c:
        print(subprocess.run(['sinfo'], env=c.env, capture_output=True, text=True).stdout)
        r = subprocess.run(['sbatch', '--wait', '--parsable', '-o', os.path.join(c.dir, 'j.out'),
                            '--wrap', 'hostname; id -u'], env=c.env, capture_output=True,
                           text=True)
        print(r.returncode, r.stdout, r.stderr)
        with open(os.path.join(c.dir, 'j.out')) as f:
            print(f.read())
