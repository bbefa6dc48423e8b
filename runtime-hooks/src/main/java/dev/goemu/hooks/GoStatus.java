package dev.goemu.hooks;

/**
 * A goroutine's status word ({@code g.atomicstatus}) as the runtime defines it in runtime2.go: the same numbers in
 * every release from 1.19 to 1.27 ({@code _Gleaked} and {@code _Gdeadextra} are new in 1.26), plus the {@code _Gscan}
 * bit the garbage collector sets while it scans a stack.
 */
public final class GoStatus {
    public static final int IDLE = 0, RUNNABLE = 1, RUNNING = 2, SYSCALL = 3, WAITING = 4, DEAD = 6, COPYSTACK = 8,
            PREEMPTED = 9;
    public static final int SCAN = 0x1000;

    /** The runtime's names without their {@code _G} prefix, indexed by status. */
    private static final String[] NAMES = {"idle", "runnable", "running", "syscall", "waiting", "moribund_unused", "dead",
            "enqueue_unused", "copystack", "preempted", "leaked", "deadextra"};

    private GoStatus() {
    }

    /** "waiting", "scanwaiting" (the runtime's {@code _Gscanwaiting}), or "status 42" for a number it never uses. */
    public static String name(int status) {
        int base = status & ~SCAN;
        String name = base < NAMES.length ? NAMES[base] : "status " + base;
        return (status & SCAN) != 0 ? "scan" + name : name;
    }
}
