package dev.goemu.syscalls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * Interval timers (getitimer, setitimer, alarm), POSIX timers (the timer_create family) and timerfd of one process.
 *
 * <p>Clock timers (ITIMER_REAL; CLOCK_REALTIME, MONOTONIC, BOOTTIME, TAI) expire on the kernel's {@link Clock}
 * through the scheduler's timer heap: they fire at the first decision after their deadline (within a 2 ms slice) and
 * end an idle wait; in deterministic mode at their virtual deadline. CPU-time timers (ITIMER_VIRTUAL, ITIMER_PROF,
 * the CPU-time clocks) expire on the time the scheduler charges a thread when it takes it off the CPU, which it does
 * only while one is armed (the thread's wall time on the engine thread, or its virtual time in deterministic mode),
 * and are checked at those decisions. goemu does not tell user from system time: ITIMER_VIRTUAL counts what
 * ITIMER_PROF counts.
 *
 * <p>As on Linux, fork inherits no timer, and execve keeps the itimers and deletes the POSIX timers.
 */
final class TimerSyscalls {
    static final int ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;
    static final int SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
    private static final int SIGALRM = 14, SIGVTALRM = 26, SIGPROF = 27;
    private static final int CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2,
            CLOCK_THREAD_CPUTIME_ID = 3, CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5,
            CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9,
            CLOCK_TAI = 11;
    private static final int TIMER_ABSTIME = 1;
    private static final int RLIMIT_SIGPENDING = 11;
    /** POSIX timers per process at most (EAGAIN beyond): Linux's bound is RLIMIT_SIGPENDING; this one bounds memory. */
    static final int MAX_TIMERS = 1 << 14;
    private static final long NANOS = 1_000_000_000L;

    private enum Kind { CLOCK, PROCESS_CPU, THREAD_CPU }

    private final Kernel k;
    /** ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF, made when first set. */
    private final GuestTimer[] itimers = new GuestTimer[3];
    private final Map<Integer, GuestTimer> posix = new HashMap<>();
    /** Linux hands timer ids out cyclically from 0. */
    private int nextId;
    /** Armed CPU-time timers, checked whenever a thread's CPU time is charged; the scheduler charges while not empty. */
    private final ArrayList<GuestTimer> cpuArmed = new ArrayList<>();
    private final Scheduler.CpuCharge charge = this::ran;
    /** The process's CPU time, counted while a CPU-time timer is armed. */
    private long processCpu;

    TimerSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.GETITIMER, "dp", (task, a) -> getitimer((int) a[0], a[1]));
        t.partial(Sys.SETITIMER, "dpp", "ITIMER_VIRTUAL counts system time too; CPU time is checked at thread switches",
                (task, a) -> setitimer((int) a[0], a[1], a[2]));
        t.add(Sys.ALARM, "d", (task, a) -> alarm(a[0] & 0xffffffffL));
        t.partial(Sys.TIMER_CREATE, "dpp", "CPU clocks of other processes: EINVAL; CPU time is checked at thread switches",
                (task, a) -> timerCreate(task, (int) a[0], a[1], a[2]));
        t.add(Sys.TIMER_SETTIME, "dxpp", (task, a) -> timerSettime((int) a[0], (int) a[1], a[2], a[3]));
        t.add(Sys.TIMER_GETTIME, "dp", (task, a) -> {
            GuestTimer g = posix.get((int) a[0]);
            if (g == null) return -Errno.EINVAL;
            writePair(a[1], g.interval, g.remaining(), false);
            return 0;
        });
        t.add(Sys.TIMER_GETOVERRUN, "d", (task, a) -> {
            GuestTimer g = posix.get((int) a[0]);
            return g == null ? -Errno.EINVAL : g.overrunLast;
        });
        t.add(Sys.TIMER_DELETE, "d", (task, a) -> {
            GuestTimer g = posix.remove((int) a[0]);
            if (g == null) return -Errno.EINVAL;
            g.disarm();
            return 0;
        });
        // The host's timerfds are on the host's clocks, which are the guest's except in deterministic mode.
        String virtualClock = "deterministic runs: ENOSYS (a host timer would not follow the virtual clock)";
        SyscallTable.Handler create = k.passthrough.fd(), settime = k.passthrough.struct(32), gettime = k.passthrough.struct(32);
        t.partial(Sys.TIMERFD_CREATE, "dz", virtualClock, (task, a) -> refusedIfVirtual() ? -Errno.ENOSYS : create.call(task, a));
        t.partial(Sys.TIMERFD_SETTIME, "fzpp", virtualClock, (task, a) -> refusedIfVirtual() ? -Errno.ENOSYS : settime.call(task, a));
        t.partial(Sys.TIMERFD_GETTIME, "fp", virtualClock, (task, a) -> refusedIfVirtual() ? -Errno.ENOSYS : gettime.call(task, a));
    }

    private boolean refusedIfVirtual() {
        if (!k.clock.isVirtual()) return false;
        k.warnOnce("goemu: timerfd answered ENOSYS in a deterministic run: host timers do not follow the virtual clock");
        return true;
    }

    /** After execve: the itimers of the image replaced, with the time they had left. */
    void inheritItimers(TimerSyscalls from) {
        for (int which = 0; which < itimers.length; which++) {
            GuestTimer old = from.itimers[which];
            if (old != null) itimer(which).set(old.remaining(), old.interval, false);
        }
    }

    // ---- itimers

    private GuestTimer itimer(int which) {
        if (itimers[which] == null) {
            itimers[which] = which == ITIMER_REAL ? new GuestTimer(-1, Kind.CLOCK, null, false, SIGEV_SIGNAL, SIGALRM, 0, null)
                    : new GuestTimer(-1, Kind.PROCESS_CPU, null, false, SIGEV_SIGNAL, which == ITIMER_PROF ? SIGPROF : SIGVTALRM, 0, null);
        }
        return itimers[which];
    }

    private long getitimer(int which, long curr) {
        if (which < ITIMER_REAL || which > ITIMER_PROF) return -Errno.EINVAL;
        GuestTimer g = itimers[which];
        writePair(curr, g == null ? 0 : g.interval, g == null ? 0 : itimerRemaining(g), true);
        return 0;
    }

    /** A timer still armed never reads as 0 µs left, which would mean disarmed (Linux reports 1 µs). */
    private static long itimerRemaining(GuestTimer g) {
        long r = g.remaining();
        return r > 0 ? Math.max(r, 1000) : 0;
    }

    /** A NULL new value disarms, as Linux has done since 4.x (with a warning there). */
    private long setitimer(int which, long newAddr, long oldAddr) {
        if (which < ITIMER_REAL || which > ITIMER_PROF) return -Errno.EINVAL;
        long interval = 0, value = 0;
        if (newAddr != 0) {
            interval = readTimeval(newAddr);
            value = readTimeval(newAddr + 16);
            if (interval < 0 || value < 0) return -Errno.EINVAL;
        }
        GuestTimer g = itimer(which);
        long oldInterval = g.interval, oldRemaining = itimerRemaining(g);
        g.set(value, interval, false);
        if (oldAddr != 0) writePair(oldAddr, oldInterval, oldRemaining, true);
        return 0;
    }

    /** alarm(2) is ITIMER_REAL in whole seconds; the time left is rounded to the nearest second, but never to 0. */
    private long alarm(long seconds) {
        GuestTimer g = itimer(ITIMER_REAL);
        long left = itimerRemaining(g);
        g.set(seconds * NANOS, 0, false);
        long sec = left / NANOS, usec = left % NANOS / 1000;
        return (sec == 0 && usec != 0) || usec >= 500_000 ? sec + 1 : sec;
    }

    /** A struct timeval as nanoseconds (saturating), or -1 if Linux refuses it (negative, or usec not below 10^6). */
    private long readTimeval(long addr) {
        long sec = k.memory.readLong(addr), usec = k.memory.readLong(addr + 8);
        if (sec < 0 || usec < 0 || usec >= 1_000_000) return -1;
        return satAdd(sec > Long.MAX_VALUE / NANOS ? Long.MAX_VALUE : sec * NANOS, usec * 1000);
    }

    /** An itimerval (timevals) or itimerspec (timespecs): the interval, then the value. */
    private void writePair(long addr, long interval, long value, boolean timeval) {
        long unit = timeval ? 1000 : 1;
        k.memory.writeLong(addr, interval / NANOS);
        k.memory.writeLong(addr + 8, interval % NANOS / unit);
        k.memory.writeLong(addr + 16, value / NANOS);
        k.memory.writeLong(addr + 24, value % NANOS / unit);
    }

    // ---- POSIX timers

    /** struct sigevent: sigev_value at 0, sigev_signo at 8, sigev_notify at 12, sigev_notify_thread_id at 16. */
    private long timerCreate(Task caller, int clock, long sevp, long idAddr) {
        Kind kind;
        Task owner = null;
        boolean realtime = clock == CLOCK_REALTIME || clock == CLOCK_TAI || clock == CLOCK_REALTIME_ALARM;
        switch (clock) {
            case CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM ->
                    kind = Kind.CLOCK;
            case CLOCK_PROCESS_CPUTIME_ID -> kind = Kind.PROCESS_CPU;
            case CLOCK_THREAD_CPUTIME_ID -> {
                kind = Kind.THREAD_CPU;
                owner = caller;
            }
            case CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE -> {
                return -Errno.ENOTSUP; // clocks Linux reads but has no timers on
            }
            default -> {
                // A CPU clock id: ~pid << 3 | per-thread << 2 | which (PROF, VIRT, SCHED; 3 is invalid)
                if (clock >= 0 || (clock & 3) == 3) return -Errno.EINVAL;
                int id = ~(clock >> 3);
                if ((clock & 4) != 0) {
                    kind = Kind.THREAD_CPU;
                    owner = id == 0 ? caller : k.scheduler.task(id);
                    if (owner == null) return -Errno.EINVAL; // not a thread of this process
                } else {
                    kind = Kind.PROCESS_CPU;
                    if (id != 0 && id != k.pid) return -Errno.EINVAL;
                }
            }
        }
        long value;
        int signo, notify;
        Task target = null;
        if (sevp == 0) {
            value = -1; // the timer's id, below
            signo = SIGALRM;
            notify = SIGEV_SIGNAL;
        } else {
            value = k.memory.readLong(sevp);
            signo = k.memory.readInt(sevp + 8);
            notify = k.memory.readInt(sevp + 12);
            // Linux's good_sigevent: SIGEV_THREAD (glibc's helper thread) is a process-directed signal to the kernel
            switch (notify) {
                case SIGEV_NONE -> {}
                case SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID -> {
                    if (notify == SIGEV_THREAD_ID) {
                        target = k.scheduler.task(k.memory.readInt(sevp + 16));
                        if (target == null) return -Errno.EINVAL;
                    }
                    if (signo <= 0 || signo > SignalSyscalls.NSIG) return -Errno.EINVAL;
                }
                default -> {
                    return -Errno.EINVAL;
                }
            }
        }
        long limit = k.limits.soft(RLIMIT_SIGPENDING); // unsigned: RLIM_INFINITY is -1
        if (posix.size() >= (Long.compareUnsigned(limit, MAX_TIMERS) < 0 ? limit : MAX_TIMERS)) return -Errno.EAGAIN;
        if ((clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) && k.uid != 0) {
            return -Errno.EPERM; // needs CAP_WAKE_ALARM
        }
        int id = nextId;
        while (posix.containsKey(id)) id = (id + 1) & Integer.MAX_VALUE;
        k.memory.writeInt(idAddr, id); // EFAULT before the timer exists
        nextId = (id + 1) & Integer.MAX_VALUE;
        posix.put(id, new GuestTimer(id, kind, owner, realtime, notify, signo, sevp == 0 ? id : value, target));
        return 0;
    }

    private long timerSettime(int id, int flags, long newAddr, long oldAddr) {
        if (newAddr == 0) return -Errno.EINVAL;
        long interval = TimeSyscalls.readTimespec(k.memory, newAddr), value = TimeSyscalls.readTimespec(k.memory, newAddr + 16);
        if (interval < 0 || value < 0) return -Errno.EINVAL;
        GuestTimer g = posix.get(id);
        if (g == null) return -Errno.EINVAL;
        long oldInterval = g.interval, oldRemaining = g.remaining();
        g.set(value, interval, (flags & TIMER_ABSTIME) != 0);
        if (oldAddr != 0) writePair(oldAddr, oldInterval, oldRemaining, false);
        return 0;
    }

    /** A POSIX timer's signal is being delivered: its si_overrun is the overruns counted until now. */
    SignalFrame.Info delivered(SignalFrame.Info info) {
        GuestTimer g = posix.get(info.pid());
        if (g == null || g.sent != info) return info; // deleted since: as sent
        g.overrunLast = g.overrun;
        g.overrun = 0;
        return SignalFrame.Info.timer(info.signo(), g.id, g.overrunLast, g.value);
    }

    // ---- CPU time

    /** The scheduler took {@code t} off the CPU after it ran {@code nanos}; CPU-time timers due fire now. */
    private void ran(Task t, long nanos) {
        t.cpuNanos += nanos;
        processCpu += nanos;
        // Backwards: a timer that fires without an interval removes itself.
        for (int i = cpuArmed.size() - 1; i >= 0; i--) {
            GuestTimer g = cpuArmed.get(i);
            if (g.expiry <= g.now()) g.expire(t);
        }
    }

    private static long satAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (b < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }

    /**
     * One timer: an itimer (id -1) or a POSIX timer. Its expiry is on the kernel's monotonic clock (CLOCK) or on the
     * charged CPU time of the process or of one thread.
     */
    private final class GuestTimer {
        final int id;
        final Kind kind;
        /** THREAD_CPU: the thread whose CPU time it counts. */
        final Task owner;
        /** An absolute value is a CLOCK_REALTIME time. */
        final boolean realtime;
        final int notify, signo;
        final long value;
        /** SIGEV_THREAD_ID: the thread signalled; else null, a process-directed signal. */
        final Task target;
        /** CLOCK: the scheduler's entry for it. */
        final Scheduler.Timer clockTimer;
        boolean armed;
        long expiry, interval;
        int overrun, overrunLast;
        /** The last signal sent, to tell whether it is still pending when the timer fires again. */
        SignalFrame.Info sent;

        GuestTimer(int id, Kind kind, Task owner, boolean realtime, int notify, int signo, long value, Task target) {
            this.id = id;
            this.kind = kind;
            this.owner = owner;
            this.realtime = realtime;
            this.notify = notify;
            this.signo = signo;
            this.value = value;
            this.target = target;
            this.clockTimer = kind == Kind.CLOCK ? new Scheduler.Timer(() -> expire(null)) : null;
        }

        long now() {
            return switch (kind) {
                case CLOCK -> k.clock.monotonic();
                case PROCESS_CPU -> processCpu;
                case THREAD_CPU -> owner.cpuNanos;
            };
        }

        /** Time left, 0 if disarmed; an expiry passed but not yet seen is 1 ns, as Linux reports it (0 for SIGEV_NONE). */
        long remaining() {
            if (!armed) return 0;
            long left = expiry - now();
            return left > 0 ? left : notify == SIGEV_NONE ? 0 : 1;
        }

        /** Arms it {@code value} ns from now, or at {@code value} if {@code absolute}; 0 disarms. */
        void set(long value, long interval, boolean absolute) {
            this.interval = interval;
            overrun = overrunLast = 0;
            if (value == 0) {
                disarm();
                return;
            }
            long at;
            if (!absolute) at = satAdd(now(), value);
            else if (kind == Kind.CLOCK) at = realtime ? k.clock.realtimeToDeadline(value) : value;
            else at = satAdd(now(), value - cpuClockReading()); // against what clock_gettime reads now
            arm(at);
        }

        /** What clock_gettime answers for this timer's CPU clock: the host's, or the virtual clock's work. */
        private long cpuClockReading() {
            if (k.clock.isVirtual()) return k.clock.monotonic() - Determinism.MONOTONIC_START_NANOS;
            return TimeSyscalls.hostClock(kind == Kind.THREAD_CPU ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID);
        }

        private void arm(long at) {
            expiry = at;
            if (kind == Kind.CLOCK) {
                k.scheduler.arm(clockTimer, at);
            } else if (!armed) {
                cpuArmed.add(this);
                if (cpuArmed.size() == 1) k.scheduler.chargeCpu(charge);
            }
            armed = true;
        }

        void disarm() {
            if (!armed) return;
            armed = false;
            if (kind == Kind.CLOCK) {
                k.scheduler.disarm(clockTimer);
            } else {
                cpuArmed.remove(this);
                if (cpuArmed.isEmpty()) k.scheduler.chargeCpu(null);
            }
        }

        /**
         * Its expiry passed: signal, then reload with the interval past now, counting the periods missed as overruns
         * (Linux's hrtimer_forward), or disarm. {@code running}: the thread whose CPU time expired it, or null.
         */
        void expire(Task running) {
            signal(running);
            if (interval == 0) {
                disarm();
                return;
            }
            long missed = Math.max(0, now() - expiry) / interval;
            overrun = (int) Math.min(Integer.MAX_VALUE, overrun + missed);
            long step = Math.multiplyHigh(missed + 1, interval) != 0 ? Long.MAX_VALUE : (missed + 1) * interval;
            arm(satAdd(expiry, step < 0 ? Long.MAX_VALUE : step));
        }

        private void signal(Task running) {
            if (notify == SIGEV_NONE || (target != null && target.state == Task.State.EXITED)) return;
            if (sent != null && k.signals.stillPending(sent)) { // one signal per timer in flight, as Linux queues it
                if (id >= 0 && overrun < Integer.MAX_VALUE) overrun++;
                return;
            }
            sent = id < 0 ? new SignalFrame.Info(signo, SignalFrame.Info.SI_KERNEL, 0, 0, 0, 0)
                    : SignalFrame.Info.timer(signo, id, 0, value);
            if (target != null) k.signals.sendToTask(target, signo, sent);
            else k.signals.sendToProcess(signo, sent, kind == Kind.CLOCK ? null : running);
        }
    }
}
