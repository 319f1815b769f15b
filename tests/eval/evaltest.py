"""What the dmt-eval test scripts share: one failure counter with its
ok/FAIL lines (check), running dmt-eval (run_eval), and the exit status
(finish: 1 when a check failed)."""

import subprocess
import sys

fails = 0


def check(what, cond, detail=''):
    global fails
    print(('ok   ' if cond else 'FAIL ') + what + ('' if cond else ': ' + str(detail)[-3000:]),
          flush=True)
    if not cond:
        fails += 1


def run_eval(eval_path, args, timeout, env=None):
    return subprocess.run([sys.executable, eval_path] + list(args), capture_output=True,
                          text=True, timeout=timeout, env=env)


def finish():
    print('%d failure(s)' % fails)
    sys.exit(1 if fails else 0)
