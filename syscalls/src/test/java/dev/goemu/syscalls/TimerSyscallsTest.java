package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import static dev.goemu.syscalls.TestKernel.SCRATCH;
import static org.junit.jupiter.api.Assertions.*;

/** Interval and POSIX timers on a clock the test moves: arming, expiry, intervals, overruns, siginfo, errors. */
class TimerSyscallsTest {
    private static final int RT_SIGACTION = 13, GETITIMER = 36, ALARM = 37, SETITIMER = 38, TIMER_CREATE = 222,
            TIMER_SETTIME = 223, TIMER_GETTIME = 224, TIMER_GETOVERRUN = 225, TIMER_DELETE = 226;
    private static final int SIGUSR1 = 10, SIGALRM = 14, SIGPROF = 27;
    private static final long MS = 1_000_000;
    private static final long SEV = SCRATCH + 0x100, SPEC = SCRATCH + 0x200, OUT = SCRATCH + 0x300, ID = SCRATCH + 0x400;

    private final DeterministicKernelTest.ManualClock clock = new DeterministicKernelTest.ManualClock();
    private final TestKernel tk = new TestKernel(new Determinism(0, Determinism.DEFAULT_EPOCH_NANOS,
            new Determinism.Strategy.Random()), clock);
    private final Task main = tk.kernel.createMainTask();

    TimerSyscallsTest() {
        tk.kernel.scheduler().next(null);
    }

    private static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** Time passes while main runs, then the scheduler decides (where timers fire). */
    private void run(long nanos) {
        clock.now += nanos;
        assertSame(main, tk.kernel.scheduler().next(main));
    }

    private void spec(long interval, long value) {
        tk.writeTimespec(SPEC, interval);
        tk.writeTimespec(SPEC + 16, value);
    }

    private int create(int clockId, int notify, int signo, long value, int tid) {
        tk.memory.writeLong(SEV, value);
        tk.memory.writeInt(SEV + 8, signo);
        tk.memory.writeInt(SEV + 12, notify);
        tk.memory.writeInt(SEV + 16, tid);
        assertEquals(0, tk.call(main, TIMER_CREATE, clockId, SEV, ID));
        return tk.memory.readInt(ID);
    }

    @Test
    void itimerRealFiresReloadsAndReportsTimeLeft() {
        tk.memory.writeLong(SPEC, 0);
        tk.memory.writeLong(SPEC + 8, 5000);   // interval 5 ms
        tk.memory.writeLong(SPEC + 16, 0);
        tk.memory.writeLong(SPEC + 24, 10000); // value 10 ms
        assertEquals(0, tk.call(main, SETITIMER, 0, SPEC, 0));
        run(9 * MS);
        assertEquals(0, main.pendingSignals & bit(SIGALRM));
        run(1 * MS);
        assertNotEquals(0, main.pendingSignals & bit(SIGALRM), "SIGALRM at 10 ms");
        assertEquals(SignalFrame.Info.SI_KERNEL, main.pendingInfo[SIGALRM].code());
        assertEquals(0, tk.call(main, GETITIMER, 0, OUT));
        assertEquals(5000, tk.memory.readLong(OUT + 8), "interval");
        assertEquals(5000, tk.memory.readLong(OUT + 24), "reloaded: 5 ms left");
        assertEquals(1, tk.call(main, ALARM, 0), "alarm(0): 5 ms left is 1 s, never 0 while armed");
        assertEquals(0, tk.call(main, GETITIMER, 0, OUT));
        assertEquals(0, tk.memory.readLong(OUT + 24), "alarm(0) disarmed it");
    }

    @Test
    void idleSchedulerJumpsToATimerDeadline() {
        spec(0, 50 * MS);
        int id = create(1, TimerSyscalls.SIGEV_SIGNAL, SIGUSR1, 0, 0);
        assertEquals(0, tk.call(main, TIMER_SETTIME, id, 0, SPEC, 0));
        tk.kernel.block(main, Wait.until(main, Wait.NO_DEADLINE, 0)); // pause(): only a signal wakes it
        assertSame(main, tk.kernel.scheduler().next(main));
        assertEquals(Determinism.MONOTONIC_START_NANOS + 50 * MS, clock.now, "time jumped to the timer");
        assertEquals(-Errno.EINTR, TestKernel.result(main));
    }

    @Test
    void posixTimerCountsOverrunsAndFillsInSiginfo() {
        long act = SCRATCH + 0x500;
        tk.memory.writeLong(act, 0x401000);
        tk.memory.writeLong(act + 8, 4 | 0x04000000L); // SA_SIGINFO | SA_RESTORER
        tk.memory.writeLong(act + 16, 0x402000);
        assertEquals(0, tk.call(main, RT_SIGACTION, SIGUSR1, act, 0, 8));
        tk.cpu.set(Registers.RSP, SCRATCH + 0x80000);

        int id = create(1, TimerSyscalls.SIGEV_SIGNAL, SIGUSR1, 42, 0);
        assertEquals(0, id, "ids start at 0");
        spec(MS, MS);
        assertEquals(0, tk.call(main, TIMER_SETTIME, id, 0, SPEC, 0));
        run(3 * MS + MS / 2); // first expiry at 1 ms, seen at 3.5 ms: 2 periods missed
        run(MS / 2);          // expires at 4 ms while its signal is pending: one more
        assertEquals(0, tk.call(main, TIMER_GETTIME, id, OUT));
        assertEquals(MS, tk.memory.readLong(OUT + 8), "interval");
        assertEquals(MS, tk.memory.readLong(OUT + 24), "next expiry in 1 ms");

        tk.kernel.deliverSignals(main);
        long si = tk.cpu.get(Registers.RSI);
        assertEquals(SIGUSR1, tk.memory.readInt(si));
        assertEquals(-2, tk.memory.readInt(si + 8), "SI_TIMER");
        assertEquals(id, tk.memory.readInt(si + 16), "si_timerid");
        assertEquals(3, tk.memory.readInt(si + 20), "si_overrun");
        assertEquals(42, tk.memory.readLong(si + 24), "si_value");
        assertEquals(3, tk.call(main, TIMER_GETOVERRUN, id));

        assertEquals(0, tk.call(main, TIMER_DELETE, id));
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_DELETE, id));
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_GETTIME, id, OUT));
        assertEquals(1, create(1, TimerSyscalls.SIGEV_NONE, 0, 0, 0), "ids go on cyclically");
    }

    @Test
    void threadCpuTimerSignalsItsThreadAfterItsWork() {
        assertEquals(0, main.cpuNanos);
        run(5 * MS);
        assertEquals(0, main.cpuNanos, "no CPU timer, no accounting");
        int id = create(3, TimerSyscalls.SIGEV_THREAD_ID, SIGPROF, 0, main.tid);
        spec(10 * MS, 10 * MS);
        assertEquals(0, tk.call(main, TIMER_SETTIME, id, 0, SPEC, 0));
        run(9 * MS);
        assertEquals(0, main.pendingSignals & bit(SIGPROF));
        run(2 * MS);
        assertNotEquals(0, main.pendingSignals & bit(SIGPROF), "SIGPROF after 10 ms of its CPU time");
        assertEquals(SignalFrame.Info.SI_TIMER, main.pendingInfo[SIGPROF].code());
        assertEquals(0, tk.call(main, TIMER_GETTIME, id, OUT));
        assertEquals(9 * MS, tk.memory.readLong(OUT + 24), "9 ms of CPU time to the next expiry");
        assertEquals(0, tk.call(main, TIMER_DELETE, id));
        long before = main.cpuNanos;
        run(5 * MS);
        assertEquals(before, main.cpuNanos, "accounting stops with the last CPU timer");
    }

    @Test
    void hostileArgumentsAreRefusedAsLinuxRefusesThem() {
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_CREATE, 10, 0, ID), "no such clock");
        assertEquals(-Errno.ENOTSUP, tk.call(main, TIMER_CREATE, 4, 0, ID), "CLOCK_MONOTONIC_RAW has no timers");
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_CREATE, -1, 0, ID), "CPU clock with which 3");
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_CREATE, (~12345 << 3) | 4 | 2, 0, ID), "another process's thread");
        assertEquals(-Errno.EFAULT, tk.call(main, TIMER_CREATE, 1, 0, 8), "id pointer");
        assertEquals(-Errno.EFAULT, tk.call(main, TIMER_CREATE, 1, 8, ID), "sigevent pointer");
        for (int[] bad : new int[][] {{7, 10, 0}, {TimerSyscalls.SIGEV_SIGNAL, 0, 0}, {TimerSyscalls.SIGEV_SIGNAL, 65, 0},
                {TimerSyscalls.SIGEV_THREAD_ID, 10, 99999}}) {
            tk.memory.writeInt(SEV + 8, bad[1]);
            tk.memory.writeInt(SEV + 12, bad[0]);
            tk.memory.writeInt(SEV + 16, bad[2]);
            assertEquals(-Errno.EINVAL, tk.call(main, TIMER_CREATE, 1, SEV, ID), "sigevent " + java.util.Arrays.toString(bad));
        }
        if (tk.kernel.uid != 0) assertEquals(-Errno.EPERM, tk.call(main, TIMER_CREATE, 8, 0, ID), "CLOCK_REALTIME_ALARM");

        int id = create(1, TimerSyscalls.SIGEV_NONE, 0, 0, 0);
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_SETTIME, id, 0, 0, 0), "NULL new value");
        tk.memory.writeLong(SPEC + 16, 0);
        tk.memory.writeLong(SPEC + 24, 1_000_000_000L);
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_SETTIME, id, 0, SPEC, 0), "nsec 10^9");
        assertEquals(-Errno.EFAULT, tk.call(main, TIMER_SETTIME, id, 0, 8, 0));
        spec(0, Long.MAX_VALUE);
        tk.memory.writeLong(SPEC + 16, Long.MAX_VALUE); // seconds beyond any deadline: saturates, never fires
        assertEquals(0, tk.call(main, TIMER_SETTIME, id, 0, SPEC, 0));
        run(MS);
        assertEquals(0, tk.call(main, TIMER_GETTIME, id, OUT));
        assertTrue(tk.memory.readLong(OUT + 16) > 0, "still armed");
        assertEquals(-Errno.EINVAL, tk.call(main, TIMER_SETTIME, 1 << 30, 0, SPEC, 0), "no such timer");

        assertEquals(-Errno.EINVAL, tk.call(main, SETITIMER, 3, 0, 0));
        tk.memory.writeLong(SPEC + 24, 1_000_000);
        assertEquals(-Errno.EINVAL, tk.call(main, SETITIMER, 0, SPEC, 0), "usec 10^6");
        assertEquals(-Errno.EFAULT, tk.call(main, GETITIMER, 0, 8));
        assertEquals(0, tk.call(main, ALARM, 0xffffffffL), "the largest alarm is accepted");
        assertEquals(0xffffffffL, tk.call(main, ALARM, 0));
    }

    @Test
    void timersPerProcessAreBounded() {
        tk.memory.writeInt(SEV + 12, TimerSyscalls.SIGEV_NONE);
        long r = 0;
        int made = 0;
        while (made <= TimerSyscalls.MAX_TIMERS && (r = tk.call(main, TIMER_CREATE, 1, SEV, ID)) == 0) made++;
        assertEquals(-Errno.EAGAIN, r);
        assertTrue(made <= TimerSyscalls.MAX_TIMERS);
    }
}
