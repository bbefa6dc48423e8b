package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Which guest thread runs next: round robin over runnable tasks; blocked tasks wake on futex wakes, deadlines,
 * or readiness of a host fd (then their syscall is re-run). When nothing is runnable the scheduler sleeps in a
 * host poll(2) until the next deadline or fd event, so an idle guest costs no CPU and sleeps last as long as
 * they do on Linux. One host thread drives the CPU; this class is only called from it, except {@link #interrupt}.
 */
public final class Scheduler {
    /** Re-runs a blocked task's syscall after its fd became ready; returns {@link Kernel#BLOCKED} if it blocked again. */
    interface Retrier {
        long retry(Task task, int nr, long[] args);

        /** A blocked syscall finished (for strace). */
        void resumed(Task task, int nr, long result);

        /** Events from other host threads (signals sent to goemu) become kernel state now, before choosing. */
        void beforeDecision();
    }

    private static final short POLLIN = 1;

    private final Map<Integer, Task> tasks = new LinkedHashMap<>();
    private final ArrayDeque<Task> runQueue = new ArrayDeque<>();
    /** Blocked tasks in the order they blocked, so futex wakes are FIFO like Linux. */
    private final LinkedHashSet<Task> blocked = new LinkedHashSet<>();
    private final Retrier retrier;
    private final int wakeFd;
    /** The CPU layer's own timer (periodic views of the guest), run from next() when due, even while idle. */
    private long alarmDeadline = Wait.NO_DEADLINE;
    private Runnable alarmAction;

    Scheduler(Retrier retrier) {
        this.retrier = retrier;
        final int sysEventfd2 = 290, efdCloexecNonblock = 0x80000 | 0x800;
        this.wakeFd = (int) Host.syscall(sysEventfd2, 0, efdCloexecNonblock, 0);
    }

    public Collection<Task> tasks() {
        return tasks.values();
    }

    public Task task(int tid) {
        return tasks.get(tid);
    }

    void add(Task t) {
        tasks.put(t.tid, t);
        runQueue.addLast(t);
    }

    void block(Task t, Wait w, int nr, long[] args) {
        runQueue.remove(t);
        t.state = Task.State.BLOCKED;
        t.wait = w;
        t.blockedNr = nr;
        t.blockedArgs = args;
        blocked.add(t);
    }

    void wake(Task t, long result) {
        if (!blocked.remove(t)) return;
        t.state = Task.State.RUNNABLE;
        t.wait = null;
        finish(t, result);
    }

    private void finish(Task t, long result) {
        t.complete(result);
        retrier.resumed(t, t.blockedNr, result);
        runQueue.addLast(t);
    }

    int futexWake(long addr, int count, int bitset) {
        int woken = 0;
        for (Task t : new ArrayList<>(blocked)) {
            if (woken >= count) break;
            if (t.wait.futexAddr == addr && (t.wait.futexBitset & bitset) != 0) {
                wake(t, 0);
                woken++;
            }
        }
        return woken;
    }

    void exit(Task t) {
        t.state = Task.State.EXITED;
        tasks.remove(t.tid);
        blocked.remove(t);
        runQueue.remove(t);
    }

    void yield(Task t) {
        t.yielded = true;
    }

    /**
     * The task to run after {@code prev} (the one that just ran, or null) stopped. Sleeps in the host while
     * nothing is runnable; returns null when no task is left.
     */
    public Task next(Task prev) {
        if (prev != null && prev.state == Task.State.RUNNABLE && !runQueue.contains(prev)) {
            if (prev.yielded) runQueue.addLast(prev); else runQueue.addFirst(prev);
            prev.yielded = false;
        }
        retrier.beforeDecision();
        collectEvents(0);
        runAlarmIfDue();
        if (prev != null && runQueue.peekFirst() == prev && runQueue.size() > 1) {
            runQueue.addLast(runQueue.pollFirst()); // its slice ended and others are waiting
        }
        while (runQueue.isEmpty()) {
            if (tasks.isEmpty()) return null;
            collectEvents(idleTimeoutMs());
            retrier.beforeDecision();
            runAlarmIfDue();
        }
        return runQueue.pollFirst();
    }

    /** Runs {@code action} from {@link #next} once System.nanoTime() reaches {@code deadline}; replaces any earlier alarm. */
    public void setAlarm(long deadline, Runnable action) {
        alarmDeadline = deadline;
        alarmAction = action;
    }

    public void cancelAlarm() {
        alarmDeadline = Wait.NO_DEADLINE;
        alarmAction = null;
    }

    private void runAlarmIfDue() {
        if (alarmAction == null || System.nanoTime() < alarmDeadline) return;
        Runnable action = alarmAction;
        cancelAlarm();
        action.run();
    }

    private int idleTimeoutMs() {
        long earliest = alarmAction != null ? alarmDeadline : Wait.NO_DEADLINE;
        for (Task t : blocked) earliest = Math.min(earliest, t.wait.deadline);
        if (earliest == Wait.NO_DEADLINE) return -1;
        long ns = earliest - System.nanoTime();
        return ns <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (ns + 999_999) / 1_000_000);
    }

    /** Wakes the scheduler from an idle wait; safe from any thread (host signal forwarding, tests). */
    public void interrupt() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(8);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            Host.syscall(Host.SYS_WRITE, wakeFd, one.address(), 8);
        }
    }

    /** Polls fd waiters (waiting up to timeoutMs, -1 forever) and wakes tasks whose fd is ready or deadline passed. */
    private void collectEvents(int timeoutMs) {
        List<Task> fdWaiters = new ArrayList<>();
        for (Task t : blocked) if (t.wait.hostFd >= 0) fdWaiters.add(t);
        if (!fdWaiters.isEmpty() || timeoutMs != 0) {
            int n = fdWaiters.size();
            int[] fds = new int[n + 1];
            short[] events = new short[n + 1], revents = new short[n + 1];
            for (int i = 0; i < n; i++) {
                fds[i] = fdWaiters.get(i).wait.hostFd;
                events[i] = fdWaiters.get(i).wait.events;
            }
            fds[n] = wakeFd;
            events[n] = POLLIN;
            Host.poll(fds, events, revents, timeoutMs);
            if (revents[n] != 0) drainWakeFd();
            for (int i = 0; i < n; i++) {
                if (revents[i] != 0) retry(fdWaiters.get(i));
            }
        }
        long now = System.nanoTime();
        for (Task t : new ArrayList<>(blocked)) {
            if (t.wait.deadline <= now) wake(t, t.wait.timeoutResult);
        }
    }

    private void retry(Task t) {
        blocked.remove(t);
        t.state = Task.State.RUNNABLE;
        Wait old = t.wait;
        t.wait = null;
        long r = retrier.retry(t, t.blockedNr, t.blockedArgs);
        if (r == Kernel.BLOCKED) {
            t.wait.deadline = old.deadline; // blocked again: keep the original timeout
            t.wait.timeoutResult = old.timeoutResult;
            return;
        }
        finish(t, r);
    }

    private void drainWakeFd() {
        try (Arena arena = Arena.ofConfined()) {
            Host.syscall(Host.SYS_READ, wakeFd, arena.allocate(8).address(), 8);
        }
    }
}
