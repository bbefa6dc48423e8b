package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A deterministic run's baton: turns in pid order whatever the threads' timing, one run-wide clock, idle rounds. */
@Timeout(30) // a turn that never comes is a hang
class BatonTest {
    private final Processes table = new Processes(true);
    private final Baton baton = table.baton;
    private final GuestProcess root = table.root(table.newId(), 1, 1, "/");

    /** A virtual clock a test moves by hand. */
    static final class TestClock extends Clock {
        long now;

        TestClock(long now) {
            this.now = now;
        }

        @Override public long monotonic() { return now; }
        @Override public long realtime() { return now; }
        @Override public boolean isVirtual() { return true; }
        @Override public void advanceTo(long monotonic) { now = Math.max(now, monotonic); }
    }

    /** A fork child of the root (exit signal SIGCHLD) whose thread starts now: it joins the ring. */
    private GuestProcess startedChild() {
        GuestProcess child = table.child(root, 17);
        table.startsThread(child);
        return child;
    }

    @Test
    void aloneTurnsAreFreeAndStrangersGoOn() {
        table.startsThread(root);
        TestClock clock = new TestClock(5);
        baton.turn(root, clock);
        baton.turn(root, clock);
        assertFalse(baton.shared(root));
        GuestProcess vforkChild = table.child(root, 17); // never joins: runs in its parent's turns
        baton.turn(vforkChild, clock);
        assertFalse(baton.idle(vforkChild, clock, 100));
        assertEquals(5, clock.now);
    }

    @Test
    void turnsGoRoundInPidOrderWhateverTheThreadsDo() throws Exception {
        table.startsThread(root);
        TestClock rootClock = new TestClock(0);
        baton.turn(root, rootClock); // the root's first turn
        GuestProcess b = table.child(root, 17), c = table.child(root, 17);
        table.startsThread(c); // joined out of pid order: the ring is still root, b, c
        table.startsThread(b);
        assertTrue(baton.shared(root));
        List<String> log = new ArrayList<>();
        // Each child's thread starts late and at its own pace; its first turn waits however early it arrives.
        CompletableFuture<Void> tb = turns(b, "b", log, 3, 20), tc = turns(c, "c", log, 3, 0);
        for (int i = 0; i < 3; i++) {
            synchronized (log) { log.add("root"); }
            rootClock.now += 100;
            baton.turn(root, rootClock);
        }

        tb.get(10, TimeUnit.SECONDS);
        tc.get(10, TimeUnit.SECONDS);
        assertEquals(List.of("root", "b", "c", "root", "b", "c", "root", "b", "c"), log);
    }

    /** {@code n} turns of {@code p} on a thread of its own that starts after {@code delayMs}, each logged. */
    private CompletableFuture<Void> turns(GuestProcess p, String name, List<String> log, int n, long delayMs) {
        return CompletableFuture.runAsync(() -> {
            sleep(delayMs);
            TestClock clock = new TestClock(0);
            for (int i = 0; i < n; i++) {
                baton.turn(p, clock);
                synchronized (log) { log.add(name); }
            }
            baton.leave(p, clock); // its last turn stays held: leaving hands the baton on
        }, OWN_THREAD);
    }

    @Test
    void oneClockForTheRunNeverBackwards() throws Exception {
        table.startsThread(root);
        TestClock rootClock = new TestClock(1_000), childClock = new TestClock(400);
        baton.turn(root, rootClock);
        GuestProcess child = startedChild();
        CompletableFuture<Long> seen = CompletableFuture.supplyAsync(() -> {
            baton.turn(child, childClock); // its first turn: moved up to the root's time
            long first = childClock.now;
            childClock.now += 7_000;
            baton.leave(child, childClock); // its end's time is the run's
            return first;
        }, OWN_THREAD);
        rootClock.now = 2_000;
        baton.turn(root, rootClock); // hands on at 2000; back once the child ended at 9000
        assertEquals(2_000, seen.get(10, TimeUnit.SECONDS));
        assertEquals(9_000, rootClock.now);
        assertEquals(9_000, baton.time());
    }

    @Test
    void anIdleRoundSkipsToTheEarliestDeadlineOrWaitsForTheHost() throws Exception {
        table.startsThread(root);
        TestClock rootClock = new TestClock(100), childClock = new TestClock(100);
        baton.turn(root, rootClock);
        GuestProcess child = startedChild();
        CompletableFuture<Boolean> hostWait = CompletableFuture.supplyAsync(() -> {
            baton.turn(child, childClock); // busy: ran
            baton.idle(child, childClock, Baton.NO_DEADLINE); // idle, but the root's idle round is not yet whole
            boolean wait = baton.idle(child, childClock, Baton.NO_DEADLINE); // a whole round of nothing, no deadline
            baton.leave(child, childClock);
            return wait;
        }, OWN_THREAD);
        baton.turn(root, rootClock);
        assertEquals(100, rootClock.now); // the child ran, so the root's deadline must not be skipped to
        assertFalse(baton.idle(root, rootClock, 5_000)); // root idle; child idle too: the round skips to 5000
        assertEquals(5_000, rootClock.now);
        assertFalse(baton.idle(root, rootClock, Baton.NO_DEADLINE)); // root's deadline fired: now waits for nothing
        assertTrue(hostWait.get(10, TimeUnit.SECONDS));
        assertEquals(5_000, childClock.now);
    }

    @Test
    void theRootsEndEndsTheRun() throws Exception {
        table.startsThread(root);
        baton.turn(root, new TestClock(0));
        GuestProcess child = startedChild();
        CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> baton.turn(child, new TestClock(0)), OWN_THREAD);
        table.leavesThread(root, new TestClock(0));
        var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof Baton.RunOver, e.getCause().toString());
    }

    /** Every task on a thread of its own: the common pool may have a single worker, and these block in turns. */
    private static final java.util.concurrent.Executor OWN_THREAD = r -> Thread.ofPlatform().daemon().start(r);

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
