package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Process identity, limits, system information and randomness: the host's answers, the guest's pid. */
final class ProcessSyscalls {
    private static final int PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16;

    private final Kernel k;

    ProcessSyscalls(Kernel k) {
        this.k = k;
    }

    void register(SyscallTable t) {
        t.add(Sys.GETPID, "", (task, a) -> k.pid);
        for (Sys id : new Sys[] {Sys.GETUID, Sys.GETEUID, Sys.GETGID, Sys.GETEGID}) t.add(id, "", k.passthrough.handler());
        t.add(Sys.GETGROUPS, "dx", (task, a) -> getgroups((int) a[0], a[1]));
        t.add(Sys.UNAME, "p", k.passthrough.struct(390));
        t.partial(Sys.PRLIMIT64, "ddxx", "the caller's own limits only; kept by goemu, only RLIMIT_NOFILE is enforced", (task, a) -> {
            if (a[0] != 0 && (int) a[0] != k.pid) return -Errno.ESRCH;
            return k.limits.prlimit(k.memory, (int) a[1], a[2], a[3]);
        });
        t.partial(Sys.GETRLIMIT, "dx", "kept by goemu", (task, a) -> k.limits.prlimit(k.memory, (int) a[0], 0, a[1]));
        t.partial(Sys.SETRLIMIT, "dx", "kept by goemu, only RLIMIT_NOFILE is enforced (never applied to the JVM)", (task, a) -> k.limits.prlimit(k.memory, (int) a[0], a[1], 0));
        t.add(Sys.GETRUSAGE, "dp", k.passthrough.struct(144));
        t.add(Sys.SYSINFO, "p", k.passthrough.struct(112));
        t.add(Sys.TIMES, "p", k.passthrough.struct(32));
        t.add(Sys.GETRANDOM, "Bdx", k.passthrough.handler());
        t.partial(Sys.PRCTL, "dxxxx", "PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG, PR_GET_PDEATHSIG; other options EINVAL", this::prctl);
    }

    /**
     * getgroups: the count is an int (1<<40 is 0: just the number of groups); the host fills in at most NGROUPS_MAX
     * of them, copied out to the guest only as far as it has them.
     */
    private long getgroups(int size, long list) {
        if (size < 0) return -Errno.EINVAL;
        final int ngroupsMax = 65536;
        int n = Math.min(size, ngroupsMax);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4L * Math.max(n, 1), 4);
            long r = Host.syscall(Sys.GETGROUPS.nr, n, buf.address(), 0);
            if (r > 0 && n > 0) k.memory.write(list, buf.asSlice(0, 4 * r).toArray(ValueLayout.JAVA_BYTE));
            return r;
        }
    }

    /** The thread name and the parent-death signal are kept; other options are refused as a kernel without them would. */
    private long prctl(Task task, long[] a) {
        switch ((int) a[0]) {
            case PR_SET_PDEATHSIG -> {
                if (a[1] < 0 || a[1] > SignalSyscalls.NSIG) return -Errno.EINVAL;
                k.process.parentDeathSignal = (int) a[1];
                return 0;
            }
            case PR_GET_PDEATHSIG -> {
                k.memory.writeInt(a[1], k.process.parentDeathSignal);
                return 0;
            }
            case PR_SET_NAME -> {
                task.name = k.memory.readCString(a[1], 16);
                return 0;
            }
            case PR_GET_NAME -> {
                byte[] name = Arrays.copyOf(k.proc.comm(task).getBytes(StandardCharsets.UTF_8), 16);
                name[15] = 0;
                k.memory.write(a[1], name);
                return 0;
            }
            default -> {
                return -Errno.EINVAL;
            }
        }
    }
}
