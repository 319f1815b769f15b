# SPDX-License-Identifier: MIT
"""Which platform the guest tests run on here, for every test harness.

setup() picks the platform (DMTVM_TEST_PLATFORM if set, else kvm when
/dev/kvm is usable, else ptrace) and exports it as DMTVM_PLATFORM, the
default of `dmtvm run --platform`, so every dmtvm the test starts (dmt-eval's
too) runs there, without the auto-selection NOTE line. It returns None, or
the reason the test cannot run here (the caller skips loudly with 77).
"""
import os


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def ptrace_usable():
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return f.read().strip() != "3"
    except OSError:
        return True  # no Yama: ptrace of one's own children is allowed


def setup(kvm_only=None):
    """None when a platform can run this test, else why not. kvm_only: the
    reason a test needs KVM itself (it is then skipped on ptrace)."""
    p = os.environ.get("DMTVM_TEST_PLATFORM") or ("kvm" if kvm_usable() else "ptrace")
    if p == "kvm" and not kvm_usable():
        return "DMTVM_TEST_PLATFORM=kvm but /dev/kvm is not usable here"
    if p == "ptrace" and kvm_only:
        return f"no /dev/kvm here, and this test needs KVM: {kvm_only}"
    if p == "ptrace" and not ptrace_usable():
        return "no /dev/kvm and ptrace is not permitted here (Yama ptrace_scope 3)"
    os.environ["DMTVM_PLATFORM"] = p
    return None


def skip(reason):
    print(f"SKIP SKIP SKIP: {reason}; this test did not run")
    return 77
