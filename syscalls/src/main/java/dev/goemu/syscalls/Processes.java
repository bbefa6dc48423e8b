package dev.goemu.syscalls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The process table of one JVM: every guest process goemu runs (each on its own host thread, or natively), their
 * parent/child links, exit states until a wait reaps them, groups and sessions; it routes kill and wait between
 * processes. The root guest has the JVM's real pid; every other id (child pids, thread ids) comes from one counter
 * starting at Linux's PID_MAX_LIMIT, so it never equals a real host pid (native children keep their host pid).
 */
public final class Processes {
    public static final int FIRST_ID = 4_194_304;
    public static final int P_ALL = 0, P_PID = 1, P_PGID = 2;

    /** The table of this JVM. */
    public static final Processes JVM = new Processes();

    private final AtomicInteger nextId = new AtomicInteger(FIRST_ID);
    /** A deterministic run's baton, which lets one of its emulated processes run at a time; null otherwise. */
    final Baton baton;
    private final Map<Integer, GuestProcess> byPid = new HashMap<>();
    final Pidfds pidfds = new Pidfds(this);

    /** A wait's answer: the child and its status, or none ended yet, or no child matches (ECHILD). */
    record Reaped(int pid, int status) {
        static final Reaped NOT_YET = new Reaped(0, 0), NO_CHILD = new Reaped(-1, 0);
    }

    /** The JVM's table, or a test's. */
    Processes() {
        this(false);
    }

    /** A table of its own for one run; a deterministic run's has a {@link Baton}. */
    Processes(boolean deterministic) {
        this.baton = deterministic ? new Baton() : null;
    }

    int newId() {
        return nextId.getAndIncrement();
    }

    /** The first guest: pid, group and session as the host gave them to goemu. */
    public synchronized GuestProcess root(int pid, int pgid, int sid, String cwd) {
        GuestProcess p = new GuestProcess(this, pid, null, 0);
        p.pgid = pgid;
        p.sid = sid;
        p.cwd = cwd;
        p.umask = Umask.AT_START;
        p.nofileSoft = p.nofileHard = -1; // the host's until the guest sets them
        byPid.put(pid, p);
        return p;
    }

    /** A new child of {@code parent} (fork, vfork, clone without CLONE_THREAD): same group, session, cwd, umask, limits. */
    synchronized GuestProcess child(GuestProcess parent, int exitSignal) {
        GuestProcess c = new GuestProcess(this, newId(), parent, exitSignal);
        c.pgid = parent.pgid;
        c.sid = parent.sid;
        c.cwd = parent.cwd;
        c.umask = parent.umask;
        c.ctty = parent.ctty;
        c.nofileSoft = parent.nofileSoft;
        c.nofileHard = parent.nofileHard;
        c.parentDeathSignal = 0;
        parent.children.add(c);
        byPid.put(c.pid, c);
        return c;
    }

    /** Whether one of {@code parent}'s children runs natively (its end is host timing), ended or not. */
    synchronized boolean hasNativeChild(GuestProcess parent) {
        for (GuestProcess c : parent.children) if (c.hostPid != 0) return true;
        return false;
    }

    /** A child that could not be started after all: gone without a trace (no exit signal, nothing to wait for). */
    synchronized void discard(GuestProcess c) {
        c.ended = c.reaped = true;
        c.parent.children.remove(c);
        byPid.remove(c.pid, c);
    }

    /**
     * Deterministic runs: {@code p}'s emulated image is about to start on a thread of its own (a fork child, what a
     * vfork child execs); called on the parent's thread, so the order of turns does not depend on thread start-up.
     */
    public void startsThread(GuestProcess p) {
        if (baton != null) baton.join(p);
    }

    /**
     * {@code p}'s thread runs no more guest code (it ended, runs natively, or the run ended) and its time is
     * {@code clock}'s: out of the baton's ring.
     */
    public void leavesThread(GuestProcess p, Clock clock) {
        if (baton != null) baton.leave(p, clock);
    }

    public synchronized GuestProcess find(int pid) {
        return byPid.get(pid);
    }

    /** A process now running natively: its pid is the host's from now on (its parent has not seen the old one). */
    public synchronized void becameNative(GuestProcess p, int hostPid) {
        byPid.remove(p.pid);
        if (p.pgid == p.pid) p.pgid = hostPid; // it was spawned as its own group's (session's) leader
        if (p.sid == p.pid) p.sid = hostPid;
        p.pid = hostPid;
        p.hostPid = hostPid;
        byPid.put(hostPid, p);
    }

    /**
     * {@code p} ended with {@code waitStatus}: it stays as a zombie until its parent waits, unless it has no parent
     * (then it is gone, as init would reap it). Its children are orphaned (and get their parent-death signal);
     * the parent's kernel is told, which sends it the exit signal and re-runs its waits.
     */
    public void ended(GuestProcess p, int waitStatus) {
        List<GuestProcess> bereaved = new ArrayList<>();
        Kernel parentKernel;
        synchronized (this) {
            if (p.ended) return;
            p.ended = true;
            p.waitStatus = waitStatus;
            p.kernel = null;
            for (GuestProcess c : p.children) {
                c.parent = null;
                if (c.ended) forget(c);
                else if (c.parentDeathSignal != 0) bereaved.add(c);
            }
            p.children.clear();
            parentKernel = p.parent != null ? p.parent.kernel : null;
            if (p.parent == null || p.parent.ended) forget(p);
            pidfds.ended(p);
            notifyAll(); // GuestProcess.awaitEnd
        }
        if (parentKernel != null) parentKernel.childChanged(p.exitSignal, p.pid);
        for (GuestProcess c : bereaved) deliver(c, c.parentDeathSignal, p.pid, 0);
    }

    private void forget(GuestProcess p) {
        p.reaped = true;
        if (p.parent != null) p.parent.children.remove(p);
        byPid.remove(p.pid, p);
    }

    /**
     * wait4/waitid's search among {@code parent}'s children selected by (idtype, id): the first that ended, reaped
     * (out of the table) unless {@code keep} (WNOWAIT).
     */
    synchronized Reaped reap(GuestProcess parent, int idtype, int id, boolean keep) {
        boolean any = false;
        for (GuestProcess c : parent.children) {
            boolean match = switch (idtype) {
                case P_ALL -> true;
                case P_PID -> c.pid == id;
                case P_PGID -> c.pgid == id;
                default -> false;
            };
            if (!match) continue;
            any = true;
            if (!c.ended) continue;
            Reaped r = new Reaped(c.pid, c.waitStatus);
            if (!keep) forget(c);
            return r;
        }
        return any ? Reaped.NOT_YET : Reaped.NO_CHILD;
    }

    /** Whether {@code child} is a living or zombie child of {@code parent} (setpgid's check). */
    synchronized boolean isChild(GuestProcess parent, GuestProcess child) {
        return child.parent == parent && !child.reaped;
    }

    /**
     * kill(2) from {@code sender} to another process or a group ({@code pid} as kill takes it: a pid, 0 its group,
     * -1 every guest but itself, -pgid); the sender's own process is left to the caller, which delivers
     * synchronously. A pid goemu does not know is the host's business. Returns 0, -ESRCH, or the host's error.
     */
    long kill(GuestProcess sender, int pid, int sig) {
        List<GuestProcess> targets = new ArrayList<>();
        boolean senderIncluded = false;
        synchronized (this) {
            if (pid > 0) {
                GuestProcess p = byPid.get(pid);
                if (p == null) return Host.syscall(62, pid, sig, 0);
                targets.add(p);
            } else {
                int group = pid == 0 ? sender.pgid : -pid;
                for (GuestProcess p : byPid.values()) {
                    if (pid == -1 || p.pgid == group) targets.add(p);
                }
                if (pid != -1 && targets.isEmpty()) return Host.syscall(62, pid, sig, 0);
            }
            senderIncluded = targets.remove(sender);
        }
        for (GuestProcess p : targets) deliver(p, sig, sender.pid, pid < -1 || pid == 0 ? -pid : 0);
        return targets.isEmpty() && !senderIncluded ? -Errno.ESRCH : 0;
    }

    /** pidfd_send_signal to another process: ESRCH once it was reaped; an ended one (a zombie) takes it silently. */
    long signal(GuestProcess p, int sig, int senderPid) {
        synchronized (this) {
            if (p.reaped) return -Errno.ESRCH;
            if (p.ended) return 0;
        }
        deliver(p, sig, senderPid, 0);
        return 0;
    }

    /** Sends {@code sig} (0: none) to one process: through the host for a native one, else to its current kernel. */
    void deliver(GuestProcess p, int sig, int senderPid, int group) {
        int host = p.hostPid;
        if (host > 0) {
            if (p.ended) return;
            // A native group leader's group may hold host processes goemu never saw (a shell's children).
            Host.syscall(62, group > 0 && group == host ? -group : host, sig, 0);
            return;
        }
        Kernel k = p.kernel;
        if (k != null && sig != 0) k.postSignal(new SignalFrame.Info(sig, SignalFrame.Info.SI_USER, senderPid, k.uid, 0, 0));
    }
}
