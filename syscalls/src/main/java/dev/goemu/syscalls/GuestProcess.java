package dev.goemu.syscalls;

import java.util.ArrayList;
import java.util.List;

/**
 * A guest process as the process table sees it: identity, family, group and session, and what survives execve
 * (cwd, umask, the RLIMIT_NOFILE the guest set). Its code runs either as emulated images (one {@link Kernel}
 * after another, {@link #kernel}) or as a native host process ({@link #hostPid}). Fields other than the volatile
 * ones are guarded by the {@link Processes} table's lock, except the per-image state only its own thread uses.
 */
public final class GuestProcess {
    final Processes table;
    /** Changes once, when a vfork child execs a native program: its pid becomes the host's. */
    int pid;
    GuestProcess parent;
    final List<GuestProcess> children = new ArrayList<>();
    int pgid, sid;
    /** The signal the parent gets when this process ends (clone's low byte; SIGCHLD for fork and vfork). */
    final int exitSignal;
    /** The first guest, whose parent is goemu's own. */
    final boolean root;
    /** prctl(PR_SET_PDEATHSIG): sent to this process when its parent ends. */
    volatile int parentDeathSignal;
    /** The emulated image running now, or null (not started, native, or ended). */
    volatile Kernel kernel;
    /** The host pid once the process runs a native program, else 0. */
    volatile int hostPid;
    /** Ended: its wait status word; reaped: a wait consumed it (then it is out of the table). */
    boolean ended, reaped;
    int waitStatus;

    /** Per-process state an exec keeps; used by the process's own thread only. */
    String cwd;
    int umask;
    /** The controlling terminal's path once TIOCSCTTY gave the session one; null if none is known. */
    String ctty;
    long nofileSoft, nofileHard;

    GuestProcess(Processes table, int pid, GuestProcess parent, int exitSignal) {
        this.table = table;
        this.pid = pid;
        this.parent = parent;
        this.exitSignal = exitSignal;
        this.root = parent == null;
    }

    public int pid() {
        synchronized (table) {
            return pid;
        }
    }

    /** The host pid if the process runs a native program, else 0. */
    /** The process table it is in. */
    public Processes table() {
        return table;
    }

    public int hostPid() {
        return hostPid;
    }

    /** Waits until the process ended (a native one, whose reaper records it); returns its wait status. */
    public int awaitEnd() {
        synchronized (table) {
            while (!ended) {
                try {
                    table.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return WaitStatus.killed(9, false);
                }
            }
            return waitStatus;
        }
    }

    /** The status a shell shows for this process's end: the exit code, or 128 + the signal that killed it. */
    public static int shellStatus(int waitStatus) {
        return WaitStatus.signaled(waitStatus) ? 128 + WaitStatus.termSignal(waitStatus) : WaitStatus.exitCode(waitStatus);
    }

    @Override
    public String toString() {
        return "process " + pid;
    }
}
