package dev.goemu.syscalls;

/** Linux's wait status word (wait4's *wstatus): exit code in bits 8-15, or the killing signal in bits 0-6 and 0x80 for a core dump. */
public final class WaitStatus {
    private WaitStatus() {}

    public static int exited(int code) {
        return (code & 0xff) << 8;
    }

    public static int killed(int sig, boolean core) {
        return (sig & 0x7f) | (core ? 0x80 : 0);
    }

    public static boolean signaled(int status) {
        return (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;
    }

    public static int termSignal(int status) {
        return status & 0x7f;
    }

    public static int exitCode(int status) {
        return (status >> 8) & 0xff;
    }

    /** waitid's si_code for this status: CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3. */
    static int childCode(int status) {
        if (!signaled(status)) return 1;
        return (status & 0x80) != 0 ? 3 : 2;
    }

    /** waitid's si_status: the exit code or the signal. */
    static int childStatus(int status) {
        return signaled(status) ? termSignal(status) : exitCode(status);
    }
}
