package dev.goemu.syscalls;

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
        t.add(39, "", (task, a) -> k.pid);
        for (int nr : new int[] {102, 107, 104, 108}) t.add(nr, "", k.passthrough.handler(nr, "", 0, false));
        t.add(115, "dx", (task, a) -> k.passthrough.call(115, "db", 0, new long[] {a[0], a[1], a[0] * 4, 0, 0, 0}));
        t.add(63, "x", k.passthrough.handler(63, "p", 390, false));
        t.add(302, "ddxx", (task, a) -> {
            if (a[0] != 0 && a[0] != k.pid) return -Errno.ESRCH;
            return k.passthrough.call(302, "xxpp", 16, new long[] {0, a[1], a[2], a[3], 0, 0});
        });
        t.add(97, "dx", k.passthrough.handler(97, "xp", 16, false));
        t.add(160, "dx", k.passthrough.handler(160, "xp", 16, false));
        t.add(98, "dx", k.passthrough.handler(98, "xp", 144, false));
        t.add(99, "x", k.passthrough.handler(99, "p", 112, false));
        t.add(100, "x", k.passthrough.handler(100, "p", 32, false));
        t.add(318, "bdx", k.passthrough.handler(318, "bxx", 0, false));
        t.add(157, "dxxxx", this::prctl);
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
                byte[] name = Arrays.copyOf(task.name.getBytes(StandardCharsets.UTF_8), 16);
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
