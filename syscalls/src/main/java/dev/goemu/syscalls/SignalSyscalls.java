package dev.goemu.syscalls;

import java.util.Arrays;

/**
 * Signals as the x86-64 Linux kernel handles them: dispositions per process, masks, alternate stacks and pending
 * sets per thread (plus a process-wide pending set), delivery by pushing an {@code rt_sigframe} when the thread
 * next returns to user mode, and rt_sigreturn restoring every register from the (possibly edited) frame, which
 * is how Go's runtime injects asyncPreempt and sigpanic.
 */
final class SignalSyscalls {
    static final int SS_ONSTACK = 1, SS_DISABLE = 2;
    static final int NSIG = 64;
    static final int SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11, SIGSTOP = 19;
    private static final long SA_NODEFER = 0x40000000L, SA_RESETHAND = 0x80000000L, SA_ONSTACK = 0x08000000L,
            SA_RESTART = 0x10000000L;
    private static final long SIG_DFL = 0, SIG_IGN = 1;
    private static final int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
    private static final long UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);
    /** Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) or to stop, which goemu ignores. */
    private static final long DEFAULT_IGNORED = bit(17) | bit(18) | bit(23) | bit(28) | bit(19) | bit(20) | bit(21) | bit(22);

    /** struct kernel_sigaction as the x86-64 kernel lays it out. */
    record Action(long handler, long flags, long restorer, long mask) {
        static final Action DEFAULT = new Action(SIG_DFL, 0, 0, 0);
    }

    /** The image these dispositions belong to (execve hands its timers on through them). */
    private final Kernel k;
    private final Action[] actions = new Action[NSIG + 1];
    /** Process-directed signals that no thread could take yet. */
    private long processPending;
    private final SignalFrame.Info[] processInfo = new SignalFrame.Info[NSIG + 1];

    SignalSyscalls(Kernel k) {
        this.k = k;
        Arrays.fill(actions, Action.DEFAULT);
    }

    /**
     * A new image's dispositions: a vfork child copies its parent's; after execve, caught signals are back to
     * default and ignored ones stay ignored.
     */
    void inherit(SignalSyscalls from, boolean exec) {
        for (int sig = 1; sig <= NSIG; sig++) {
            Action a = from.actions[sig];
            actions[sig] = !exec || a.handler == SIG_IGN ? a : Action.DEFAULT;
        }
    }

    /** The signals this process ignores (SIG_IGN), as a mask, for a native program that inherits them. */
    long ignoredMask() {
        long m = 0;
        for (int sig = 1; sig <= NSIG; sig++) if (actions[sig].handler == SIG_IGN) m |= bit(sig);
        return m;
    }

    /** The signals this process has handlers for, as a mask (/proc/self/status SigCgt). */
    long caughtMask() {
        long m = 0;
        for (int sig = 1; sig <= NSIG; sig++) if (actions[sig].handler != SIG_IGN && actions[sig].handler != SIG_DFL) m |= bit(sig);
        return m;
    }

    /** Process-directed signals not yet taken by a thread (/proc/self/status ShdPnd). */
    long processPending() {
        return processPending;
    }

    static long bit(int sig) {
        return 1L << (sig - 1);
    }

    void register(SyscallTable t) {
        t.add(Sys.RT_SIGACTION, "dxxd", (task, a) -> sigaction((int) a[0], a[1], a[2], a[3]));
        t.add(Sys.RT_SIGPROCMASK, "dxxd", (task, a) -> sigprocmask(task, (int) a[0], a[1], a[2], a[3]));
        t.add(Sys.SIGALTSTACK, "xx", (task, a) -> sigaltstack(task, a[0], a[1]));
        t.add(Sys.RT_SIGRETURN, "", (task, a) -> sigreturn(task));
        t.add(Sys.RT_SIGPENDING, "xd", (task, a) -> {
            k.memory.writeLong(a[0], (processPending | task.pendingSignals) & task.signalMask);
            return 0;
        });
        t.add(Sys.KILL, "dd", (task, a) -> kill(task, (int) a[0], (int) a[1]));
        t.partial(Sys.TGKILL, "ddd", "threads of the process itself only; others ESRCH", (task, a) -> a[0] == k.pid ? tkill(task, (int) a[1], (int) a[2]) : -Errno.ESRCH);
        t.add(Sys.TKILL, "dd", (task, a) -> tkill(task, (int) a[0], (int) a[1]));
    }

    // ---- sending ----

    /** Other processes get it through the process table; this one at once, so it is delivered as the call returns. */
    long kill(Task sender, int pid, int sig) {
        if (sig < 0 || sig > NSIG) return -Errno.EINVAL;
        boolean self = pid == k.pid || pid == -1 || (pid == 0 || -pid == k.process.pgid);
        if (pid != k.pid) {
            long r = k.process.table.kill(k.process, pid, sig);
            if (r < 0 && !self) return r;
        }
        if (!self) return 0;
        if (sig != 0) sendToProcess(sig, new SignalFrame.Info(sig, SignalFrame.Info.SI_USER, k.pid, k.uid, 0, 0));
        k.machine.stopAfterSyscall(); // a signal for the caller is delivered as its syscall returns
        return 0;
    }

    private long tkill(Task sender, int tid, int sig) {
        Task target = k.scheduler.task(tid);
        if (target == null) return -Errno.ESRCH;
        if (sig < 0 || sig > NSIG) return -Errno.EINVAL;
        if (sig != 0) {
            sendToTask(target, sig, new SignalFrame.Info(sig, SignalFrame.Info.SI_TKILL, k.pid, k.uid, 0, 0));
            if (target == sender) k.machine.stopAfterSyscall();
        }
        return 0;
    }

    /** Like Linux's complete_signal: the main thread if it can take it, else any thread that does not block it. */
    void sendToProcess(int sig, SignalFrame.Info info) {
        sendToProcess(sig, info, null);
    }

    /** The same, {@code preferred} first if not null (the thread whose CPU time expired a timer, as on Linux). */
    void sendToProcess(int sig, SignalFrame.Info info, Task preferred) {
        if (preferred != null && preferred.state != Task.State.EXITED && (preferred.signalMask & bit(sig)) == 0) {
            sendToTask(preferred, sig, info);
            return;
        }
        for (Task t : k.scheduler.tasks()) {
            if ((t.signalMask & bit(sig)) == 0) {
                sendToTask(t, sig, info);
                return;
            }
        }
        processPending |= bit(sig);
        processInfo[sig] = info;
    }

    void sendToTask(Task t, int sig, SignalFrame.Info info) {
        if (ignored(sig)) return;
        t.pendingSignals |= bit(sig);
        t.pendingInfo[sig] = info;
        if (t.state == Task.State.BLOCKED && (t.signalMask & bit(sig)) == 0) {
            t.interruptedNr = t.blockedNr;
            k.scheduler.wake(t, -Errno.EINTR);
        }
    }

    /** Whether the signal {@code info} was sent with is still pending, not yet delivered, replaced or discarded. */
    boolean stillPending(SignalFrame.Info info) {
        int sig = info.signo();
        if ((processPending & bit(sig)) != 0 && processInfo[sig] == info) return true;
        for (Task t : k.scheduler.tasks()) if ((t.pendingSignals & bit(sig)) != 0 && t.pendingInfo[sig] == info) return true;
        return false;
    }

    private boolean ignored(int sig) {
        long h = actions[sig].handler;
        return h == SIG_IGN || (h == SIG_DFL && (DEFAULT_IGNORED & bit(sig)) != 0);
    }

    /** A CPU fault of the running task. False if the guest has no handler for it (then it dies of it). */
    boolean fault(Task t, SignalFrame.Info info) {
        int sig = info.signo();
        long h = actions[sig].handler;
        if (h == SIG_DFL || h == SIG_IGN || (t.signalMask & bit(sig)) != 0) return false;
        t.pendingSignals |= bit(sig);
        t.pendingInfo[sig] = info;
        return true;
    }

    // ---- delivery ----

    /**
     * Called as {@code t} returns to user mode: delivers one unblocked pending signal (faults first, then the
     * lowest number) by pushing a frame and entering the handler, or applies the default action.
     */
    void deliver(Task t) {
        while (true) {
            long ready = (t.pendingSignals | processPending) & ~t.signalMask;
            if (ready == 0) {
                t.interruptedNr = -1;
                return;
            }
            long sync = ready & (bit(SIGSEGV) | bit(SIGFPE) | bit(SIGILL) | bit(SIGTRAP));
            int sig = Long.numberOfTrailingZeros(sync != 0 ? sync : ready) + 1;
            SignalFrame.Info info;
            if ((t.pendingSignals & bit(sig)) != 0) {
                t.pendingSignals &= ~bit(sig);
                info = t.pendingInfo[sig];
            } else {
                processPending &= ~bit(sig);
                info = processInfo[sig];
            }
            if (info != null && info.code() == SignalFrame.Info.SI_TIMER) info = k.timers.delivered(info);
            Action act = actions[sig];
            if (act.handler == SIG_IGN) continue;
            if (act.handler == SIG_DFL) {
                if ((DEFAULT_IGNORED & bit(sig)) != 0) continue;
                k.traceEvent(t, () -> "killed by " + SignalNames.name(sig));
                k.killProcess(sig);
                return;
            }
            try {
                enterHandler(t, sig, act, info);
                return;
            } catch (GuestFault f) {
                // The frame does not fit where it must go (a bad sigaltstack): Linux's force_sigsegv. SIGSEGV
                // itself failing falls back to its default action, so this ends at the latest on the next turn.
                if (sig == SIGSEGV) actions[SIGSEGV] = Action.DEFAULT;
                forceSegv(t);
            }
        }
    }

    /** Linux's force_sig(SIGSEGV) (si_code SI_KERNEL): taken even if blocked or ignored, by default action then. */
    private void forceSegv(Task t) {
        if (actions[SIGSEGV].handler == SIG_IGN || (t.signalMask & bit(SIGSEGV)) != 0) {
            actions[SIGSEGV] = Action.DEFAULT;
            t.signalMask &= ~bit(SIGSEGV);
        }
        t.pendingSignals |= bit(SIGSEGV);
        t.pendingInfo[SIGSEGV] = new SignalFrame.Info(SIGSEGV, SignalFrame.Info.SI_KERNEL, 0, 0, 0, 0);
    }

    private void enterHandler(Task t, int sig, Action act, SignalFrame.Info info) {
        Registers regs = k.machine.registers();
        if (t.interruptedNr >= 0) { // the syscall it was blocked in: restart it after the handler, or report EINTR
            if ((act.flags & SA_RESTART) != 0) {
                regs.set(Registers.RAX, t.interruptedNr);
                regs.set(Registers.RIP, regs.get(Registers.RIP) - 2);
            }
            t.interruptedNr = -1;
        }
        long top = SignalFrame.stackTop(regs.get(Registers.RSP), (act.flags & SA_ONSTACK) != 0,
                t.altStackSp, t.altStackSize, t.altStackFlags);
        long frame = SignalFrame.push(k.memory, top, regs, act.restorer, t.signalMask, info,
                t.altStackSp, t.altStackSize, t.altStackFlags);
        Registers entry = regs.copy();
        entry.set(Registers.RSP, frame);
        entry.set(Registers.RIP, act.handler);
        entry.set(Registers.RDI, sig);
        entry.set(Registers.RSI, frame + SignalFrame.SIGINFO);
        entry.set(Registers.RDX, frame + SignalFrame.UC);
        entry.set(Registers.RAX, 0);
        entry.set(Registers.EFLAGS, regs.get(Registers.EFLAGS) & ~0x500L); // clear DF and TF, as Linux does
        k.machine.setRegisters(entry);
        t.signalMask |= act.mask | ((act.flags & SA_NODEFER) != 0 ? 0 : bit(sig));
        t.signalMask &= ~UNBLOCKABLE;
        if ((act.flags & SA_RESETHAND) != 0) actions[sig] = Action.DEFAULT;
        k.traceEvent(t, () -> {
            String origin = info.code() == SignalFrame.Info.SI_TIMER
                    ? String.format("si_timerid=%d, si_overrun=%d, si_value=0x%x", info.pid(), info.uid(), info.value())
                    : info.code() <= 0 ? String.format("si_pid=%d, si_uid=%d", info.pid(), info.uid())
                    : String.format("si_addr=0x%x", info.addr());
            return String.format("%s {si_signo=%s, si_code=%d, %s}", SignalNames.name(sig), SignalNames.name(sig),
                    info.code(), origin);
        });
    }

    private long sigreturn(Task t) {
        Registers current = k.machine.registers();
        long uc = current.get(Registers.RSP);
        Registers restored;
        long mask;
        try {
            restored = SignalFrame.restore(k.memory, uc, current.copy());
            mask = SignalFrame.savedMask(k.memory, uc);
        } catch (GuestFault f) {
            // No readable frame: Linux kills with SIGSEGV rather than return into a caller that has none.
            forceSegv(t);
            k.machine.stopAfterSyscall();
            return -Errno.EFAULT;
        }
        t.signalMask = mask & ~UNBLOCKABLE;
        k.machine.setRegisters(restored);
        k.machine.stopAfterSyscall(); // signals unblocked by the restored mask are delivered now
        return restored.get(Registers.RAX);
    }

    // ---- state calls ----

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
            if (ignored(sig)) { // Linux discards pending signals that become ignored
                processPending &= ~bit(sig);
                for (Task t : k.scheduler.tasks()) t.pendingSignals &= ~bit(sig);
            }
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
            if (((task.pendingSignals | processPending) & ~task.signalMask) != 0) k.machine.stopAfterSyscall();
        }
        if (oldset != 0) k.memory.writeLong(oldset, old);
        return 0;
    }

    /** stack_t: ss_sp at 0, ss_flags at 8, ss_size at 16. */
    private long sigaltstack(Task task, long ss, long oldss) {
        if (oldss != 0) {
            long sp = k.machine.registers().get(Registers.RSP);
            boolean on = task.altStackSize > 0 && sp > task.altStackSp && sp <= task.altStackSp + task.altStackSize;
            k.memory.writeLong(oldss, task.altStackSp);
            k.memory.writeInt(oldss + 8, on ? SS_ONSTACK : task.altStackFlags);
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
}
