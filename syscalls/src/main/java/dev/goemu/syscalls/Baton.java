package dev.goemu.syscalls;

import java.util.ArrayList;

/**
 * A deterministic run's one baton: of its emulated processes (each on its own engine and host thread), only the one
 * holding it runs guest code or kernel work, so which process runs when is a function of the seed, not of host
 * timing. The holder hands it on at each of its scheduler's decisions, round robin over the ring of live emulated
 * processes in pid order; cross-process events (signals, a child's end, pipe data, shared memory) are made in one
 * process's turn and seen at another's decision, so each process sees them at deterministic points.
 *
 * <p>Time is the run's, not each process's: a process passing the baton leaves the run's time at its clock, and
 * one taking it moves its clock up to the run's time (never back). A process with nothing runnable passes with its
 * earliest deadline; when every process was idle for a whole round, the run's time jumps to the earliest deadline
 * of all, or, if none has one (all wait for the host: stdin, a native child, a signal), each idle turn waits for
 * its own host fds for up to {@link #HOST_WAIT_NANOS} before passing on, so the CPU does not spin.
 *
 * <p>A process joins on its parent's thread while the parent holds the baton (fork child, the emulated image a
 * vfork child execs), before its own thread starts, and leaves when it ends. The root's end is the run's end: the
 * processes still running never get the baton again, and their threads end at their next turn ({@link RunOver}).
 * With one process in the ring a turn costs two volatile reads. Native children are outside (host timing); a vfork
 * child before its exec runs on its parent's thread, in the parent's turns.
 */
public final class Baton {
    /** What an idle turn reports when the process's threads have no deadline. */
    static final long NO_DEADLINE = Wait.NO_DEADLINE;
    /** How long an idle turn waits for its host fds when every process waits for the host alone. */
    static final long HOST_WAIT_NANOS = 10_000_000;

    /** Thrown into a process's thread at its turn once the run ended with the root: it stops where it is. */
    public static final class RunOver extends RuntimeException {
        RunOver() {
            super("the run ended with its first process", null, false, false);
        }
    }

    /** The live emulated processes, in pid order. */
    private final ArrayList<GuestProcess> ring = new ArrayList<>();
    private volatile GuestProcess holder;
    private volatile int size;
    /** The holder has taken its turn (a new member's first turn starts without handing anything on). */
    private boolean started;
    private boolean over;
    /** The run's time: the latest clock a process passed with, or the deadline an idle round skipped to. */
    private long time;
    /** Turns in a row that found nothing to run, and their earliest deadline. */
    private int idleTurns;
    private long idleEarliest = NO_DEADLINE;
    /** The last full idle round had no deadline: idle turns wait for the host. */
    private boolean hostWait;

    /** {@code p} runs from now on: inserted in pid order; the first member holds the baton. */
    synchronized void join(GuestProcess p) {
        int i = 0;
        while (i < ring.size() && ring.get(i).pid < p.pid) i++;
        ring.add(i, p);
        size = ring.size();
        if (holder == null && !over) holder = p;
        resetIdle();
    }

    /**
     * {@code p} ended (or runs natively from now on) at {@code clock}'s time: out of the ring, handing the baton on if
     * it held it.
     */
    synchronized void leave(GuestProcess p, Clock clock) {
        int i = ring.indexOf(p);
        if (i < 0) return;
        if (p.root) over = true;
        if (holder == p) {
            time = Math.max(time, clock.monotonic());
            handOn(i);
        }
        ring.remove(i);
        size = ring.size();
        if (over || ring.isEmpty()) holder = null;
        resetIdle();
        notifyAll();
    }

    /** Whether {@code p} holds the baton with others waiting for it: then it must not wait in the host on its own. */
    boolean shared(GuestProcess p) {
        return holder == p && size > 1;
    }

    /**
     * {@code p}'s decision after it ran: hands the baton on and waits for its next turn, which starts with its clock
     * moved up to the run's time. A process not in the ring just goes on.
     */
    void turn(GuestProcess p, Clock clock) {
        if (holder == p && size == 1 && started) return; // alone: nothing to hand on
        take(p, clock, false, NO_DEADLINE);
    }

    /**
     * {@code p} has nothing to run: as {@link #turn}, reporting its earliest deadline ({@link #NO_DEADLINE} for
     * none). Returns whether its idle turn should wait for the host (every process does).
     */
    boolean idle(GuestProcess p, Clock clock, long deadline) {
        return take(p, clock, true, deadline);
    }

    private synchronized boolean take(GuestProcess p, Clock clock, boolean idle, long deadline) {
        int i = ring.indexOf(p);
        if (i < 0) return false;
        if (holder == p && started) {
            time = Math.max(time, clock.monotonic());
            if (idle) countIdle(deadline); else resetIdle();
            handOn(i);
        }
        boolean interrupted = false;
        while (holder != p) {
            if (over) throw new RunOver();
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true; // a turn is not given up: the run's order would change
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        started = true;
        clock.advanceTo(time);
        return hostWait;
    }

    /** The run's time (tests). */
    synchronized long time() {
        return time;
    }

    private void handOn(int i) {
        started = false;
        holder = ring.get((i + 1) % ring.size());
        notifyAll();
    }

    private void countIdle(long deadline) {
        idleEarliest = Math.min(idleEarliest, deadline);
        if (++idleTurns < ring.size()) return;
        // Every process found nothing to run in its last turn, and none ran since: only time or the host can help.
        hostWait = idleEarliest == NO_DEADLINE;
        if (!hostWait) time = Math.max(time, idleEarliest);
        idleTurns = 0;
        idleEarliest = NO_DEADLINE;
    }

    private void resetIdle() {
        idleTurns = 0;
        idleEarliest = NO_DEADLINE;
        hostWait = false;
    }
}
