package dev.goemu.syscalls;

/**
 * Signal dispositions (per process), masks and alternate stacks (per task), and the sending calls. Signals
 * sent are recorded as pending; delivery (signal frames, rt_sigreturn) builds on this state.
 */
final class SignalSyscalls {
    static final int SS_ONSTACK = 1, SS_DISABLE = 2;
    static final int NSIG = 64;
    private static final int SIGKILL = 9, SIGSTOP = 19;
    private static final int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
    private static final long UNBLOCKABLE = (1L << (SIGKILL - 1)) | (1L << (SIGSTOP - 1));

    /** struct kernel_sigaction as the x86-64 kernel lays it out. */
    record Action(long handler, long flags, long restorer, long mask) {
        static final Action DEFAULT = new Action(0, 0, 0, 0);
    }

    private final Kernel k;
    private final Action[] actions = new Action[NSIG + 1];
    /** Process-directed pending signals, bit (sig-1). */
    long pending;

    SignalSyscalls(Kernel k) {
        this.k = k;
        java.util.Arrays.fill(actions, Action.DEFAULT);
    }

    void register(SyscallTable t) {
        t.add(13, "dxxd", (task, a) -> sigaction((int) a[0], a[1], a[2], a[3]));
        t.add(14, "dxxd", (task, a) -> sigprocmask(task, (int) a[0], a[1], a[2], a[3]));
        t.add(131, "xx", (task, a) -> sigaltstack(task, a[0], a[1]));
        t.add(127, "xd", (task, a) -> {
            k.memory.writeLong(a[0], pending | task.pendingSignals);
            return 0;
        });
        t.add(62, "dd", (task, a) -> kill((int) a[0], (int) a[1]));
        t.add(234, "ddd", (task, a) -> a[0] == k.pid ? sendToTask((int) a[1], (int) a[2]) : -Errno.ESRCH);
        t.add(200, "dd", (task, a) -> sendToTask((int) a[0], (int) a[1]));
    }

    Action action(int sig) {
        return actions[sig];
    }

    private long sigaction(int sig, long act, long oldact, long sigsetsize) {
        if (sig < 1 || sig > NSIG || sigsetsize != 8) return -Errno.EINVAL;
        if (act != 0 && (sig == SIGKILL || sig == SIGSTOP)) return -Errno.EINVAL;
        if (oldact != 0) {
            Action o = actions[sig];
            k.memory.writeLong(oldact, o.handler);
            k.memory.writeLong(oldact + 8, o.flags);
            k.memory.writeLong(oldact + 16, o.restorer);
            k.memory.writeLong(oldact + 24, o.mask);
        }
        if (act != 0) {
            actions[sig] = new Action(k.memory.readLong(act), k.memory.readLong(act + 8),
                    k.memory.readLong(act + 16), k.memory.readLong(act + 24) & ~UNBLOCKABLE);
        }
        return 0;
    }

    private long sigprocmask(Task task, int how, long set, long oldset, long sigsetsize) {
        if (sigsetsize != 8) return -Errno.EINVAL;
        long old = task.signalMask;
        if (set != 0) {
            long s = k.memory.readLong(set);
            switch (how) {
                case SIG_BLOCK -> task.signalMask |= s;
                case SIG_UNBLOCK -> task.signalMask &= ~s;
                case SIG_SETMASK -> task.signalMask = s;
                default -> {
                    return -Errno.EINVAL;
                }
            }
            task.signalMask &= ~UNBLOCKABLE;
        }
        if (oldset != 0) k.memory.writeLong(oldset, old);
        return 0;
    }

    /** stack_t: ss_sp at 0, ss_flags at 8, ss_size at 16. */
    private long sigaltstack(Task task, long ss, long oldss) {
        if (oldss != 0) {
            k.memory.writeLong(oldss, task.altStackSp);
            k.memory.writeInt(oldss + 8, task.altStackFlags);
            k.memory.writeLong(oldss + 16, task.altStackSize);
        }
        if (ss != 0) {
            int flags = k.memory.readInt(ss + 8);
            if ((flags & ~SS_DISABLE) != 0) return -Errno.EINVAL;
            if ((flags & SS_DISABLE) != 0) {
                task.altStackSp = 0;
                task.altStackSize = 0;
                task.altStackFlags = SS_DISABLE;
            } else {
                long size = k.memory.readLong(ss + 16);
                if (size < 2048) return -Errno.ENOMEM;
                task.altStackSp = k.memory.readLong(ss);
                task.altStackSize = size;
                task.altStackFlags = 0;
            }
        }
        return 0;
    }

    private long kill(int pid, int sig) {
        if (pid != k.pid && pid != 0 && pid != -1) return -Errno.ESRCH;
        if (sig < 0 || sig > NSIG) return -Errno.EINVAL;
        if (sig != 0) pending |= 1L << (sig - 1);
        return 0;
    }

    private long sendToTask(int tid, int sig) {
        Task target = k.scheduler.task(tid);
        if (target == null) return -Errno.ESRCH;
        if (sig < 0 || sig > NSIG) return -Errno.EINVAL;
        if (sig != 0) target.pendingSignals |= 1L << (sig - 1);
        return 0;
    }
}
