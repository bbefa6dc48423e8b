package dev.goemu.syscalls;

/**
 * From syscall number to handler, with what strace needs to show the call. Families register their calls in
 * their constructor; {@link Kernel} builds the table once.
 */
public final class SyscallTable {
    /** A syscall implementation: six raw arguments in, a result or -errno (or {@link Kernel#BLOCKED}) out. */
    @FunctionalInterface
    public interface Handler {
        long call(Task task, long[] args);
    }

    /**
     * @param args one letter per argument for strace: d decimal, x hex, f fd, s path string, b buffer (length in
     *             the next argument), o octal, z flag bits
     */
    public record Entry(int nr, String name, String args, Handler handler) {}

    private final Entry[] entries = new Entry[512];

    public void add(int nr, String args, Handler handler) {
        if (entries[nr] != null) throw new IllegalStateException("syscall " + nr + " registered twice");
        entries[nr] = new Entry(nr, SyscallNames.name(nr), args, handler);
    }

    public Entry get(long nr) {
        return nr >= 0 && nr < entries.length ? entries[(int) nr] : null;
    }
}
