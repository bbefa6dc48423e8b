package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/** The kernel's side of deterministic runs: time jumps over sleeps, seeded choices, fixed identity. */
class DeterministicKernelTest {
    private static final int NANOSLEEP = 35, CLOCK_GETTIME = 228, GETRANDOM = 318, UNAME = 63, GETPID = 39;

    /** A virtual clock the test moves by hand, as guest work would. */
    static final class ManualClock extends Clock {
        long now = Determinism.MONOTONIC_START_NANOS;
        @Override public long monotonic() { return now; }
        @Override public long realtime() { return now - Determinism.MONOTONIC_START_NANOS + Determinism.DEFAULT_EPOCH_NANOS; }
        @Override public boolean isVirtual() { return true; }
        @Override public void advanceTo(long t) { now = Math.max(now, t); }
    }

    private static TestKernel kernel(long seed, Determinism.Strategy strategy, ManualClock clock) {
        return new TestKernel(new Determinism(seed, Determinism.DEFAULT_EPOCH_NANOS, strategy), clock);
    }

    @Test
    void idleTimeJumpsToTheDeadlineWithoutWaiting() {
        ManualClock clock = new ManualClock();
        TestKernel tk = kernel(0, new Determinism.Strategy.Random(), clock);
        Task main = tk.kernel.createMainTask();
        tk.writeTimespec(SCRATCH, 6_000_000_000L);
        long wall = System.nanoTime();
        assertEquals(Kernel.BLOCKED, tk.call(main, NANOSLEEP, SCRATCH, 0));
        assertSame(main, tk.kernel.scheduler().next(main));
        assertTrue(System.nanoTime() - wall < 1_000_000_000L, "slept in the host");
        assertEquals(Determinism.MONOTONIC_START_NANOS + 6_000_000_000L, clock.now);
        assertEquals(0, TestKernel.result(main));
        assertEquals(0, tk.call(main, CLOCK_GETTIME, 0, SCRATCH));
        assertEquals(1_704_067_206L, tk.memory.readLong(SCRATCH), "CLOCK_REALTIME: the epoch plus 6 s");
    }

    @Test
    void sameSeedSameChoicesAndBytes() {
        assertEquals(trace(7, new Determinism.Strategy.Random()), trace(7, new Determinism.Strategy.Random()));
        assertNotEquals(trace(7, new Determinism.Strategy.Random()), trace(8, new Determinism.Strategy.Random()));
        assertEquals(trace(3, new Determinism.Strategy.Pct(3, 50)), trace(3, new Determinism.Strategy.Pct(3, 50)));
    }

    /** Tids chosen over 200 decisions among 4 runnable threads, slice lengths, getrandom's bytes. */
    private static List<Long> trace(long seed, Determinism.Strategy strategy) {
        TestKernel tk = kernel(seed, strategy, new ManualClock());
        Task main = tk.kernel.createMainTask();
        for (int i = 0; i < 3; i++) tk.kernel.newTask();
        List<Long> out = new ArrayList<>();
        Task t = tk.kernel.scheduler().next(null);
        for (int i = 0; i < 200; i++) {
            out.add((long) t.tid);
            out.add(tk.kernel.scheduler().sliceBlocks());
            t = tk.kernel.scheduler().next(t);
        }
        assertEquals(16, tk.call(main, GETRANDOM, SCRATCH, 16, 0));
        out.add(tk.memory.readLong(SCRATCH));
        out.add(tk.memory.readLong(SCRATCH + 8));
        return out;
    }

    @Test
    void identityIsFixed() {
        TestKernel tk = kernel(0, new Determinism.Strategy.Random(), new ManualClock());
        Task main = tk.kernel.createMainTask();
        assertEquals(Processes.FIRST_ID, tk.call(main, GETPID));
        assertEquals(0, tk.call(main, UNAME, SCRATCH));
        assertEquals("Linux", tk.memory.readCString(SCRATCH, 65));
        assertEquals("goemu", tk.memory.readCString(SCRATCH + 65, 65));
        assertEquals(-Errno.EINVAL, tk.call(main, GETRANDOM, SCRATCH, 16, 0x100));
        assertEquals(-Errno.EFAULT, tk.call(main, GETRANDOM, 0x1000, 16, 0));
    }
}
