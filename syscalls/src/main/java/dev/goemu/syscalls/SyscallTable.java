package dev.goemu.syscalls;

import java.util.Locale;

/**
 * From syscall to handler: one row per call, naming it once ({@link Sys}), with its argument letters once and how
 * far goemu supports it. Families add their rows in {@code register}; {@link Kernel} builds the table once, and
 * docs/SYSCALLS.md is {@link #markdown()} of it (SyscallDocTest keeps the two equal).
 */
public final class SyscallTable {
    /** A syscall implementation: six raw arguments in, a result or -errno (or {@link Kernel#BLOCKED}) out. */
    @FunctionalInterface
    public interface Handler {
        long call(Task task, long[] args);
    }

    /** How far a call does what Linux does. */
    public enum Support { FULL, PARTIAL, REFUSED }

    /**
     * @param args one letter per argument, for strace and for host passthrough: d decimal, x hex, o octal, z flag
     *             bits, f guest fd, s path string (relative to the guest's cwd), l string passed as is (a symlink's
     *             target), b buffer the call reads (length in the next argument; strace shows its bytes), B buffer
     *             the call writes (length in the next argument), p pointer to a struct
     * @param note what is missing (PARTIAL) or why the call is refused (REFUSED); empty for FULL
     */
    public record Entry(Sys sys, String args, Support support, String note, Handler handler) {
        public int nr() { return sys.nr; }
        public String name() { return sys.linuxName(); }
    }

    private final Entry[] entries = new Entry[512];

    /** A call goemu implements as Linux does. */
    public void add(Sys sys, String args, Handler handler) {
        put(new Entry(sys, args, Support.FULL, "", handler));
    }

    /** A call implemented except for what {@code missing} says. */
    public void partial(Sys sys, String args, String missing, Handler handler) {
        put(new Entry(sys, args, Support.PARTIAL, missing, handler));
    }

    /** A call answered with -errno always, as an unprivileged Linux process would be (or ENOSYS, and why). */
    public void refuse(Sys sys, String args, int errno, String why) {
        long r = -errno;
        put(new Entry(sys, args, Support.REFUSED, Errno.name(errno) + ": " + why, (task, a) -> r));
    }

    private void put(Entry e) {
        if (entries[e.nr()] != null) throw new IllegalStateException(e.name() + " registered twice");
        entries[e.nr()] = e;
    }

    public Entry get(long nr) {
        return nr >= 0 && nr < entries.length ? entries[(int) nr] : null;
    }

    /** The compatibility document: every x86-64 syscall with goemu's support for it. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Syscalls\n\n")
                .append("Generated from goemu's syscall table (`syscalls/src/main/java/dev/goemu/syscalls/SyscallTable.java` and the\n")
                .append("families that register into it) by `SyscallDocTest`; do not edit by hand: run\n")
                .append("`./test.sh -pl syscalls -am -Dtest=SyscallDocTest -Dsurefire.failIfNoSpecifiedTests=false -Dgoemu.syscalls.update=true`\n")
                .append("after changing the table.\n\n")
                .append("- **full**: as Linux does it, for what a Go program can ask;\n")
                .append("- **partial**: implemented, except what the note says;\n")
                .append("- **refused**: always answers the errno shown, as Linux answers an unprivileged process in a container;\n")
                .append("- **missing**: answered ENOSYS, and reported once on stderr (`goemu: unimplemented syscall ...`).\n\n");
        int[] counts = new int[Support.values().length + 1];
        for (Sys s : Sys.values()) {
            Entry e = get(s.nr);
            counts[e == null ? counts.length - 1 : e.support().ordinal()]++;
        }
        sb.append(String.format("%d full, %d partial, %d refused, %d missing.%n%n",
                counts[0], counts[1], counts[2], counts[3]));
        sb.append("| nr | syscall | support | note |\n|---:|---|---|---|\n");
        for (Sys s : Sys.values()) {
            Entry e = get(s.nr);
            String support = e == null ? "missing" : e.support().name().toLowerCase(Locale.ROOT);
            String note = e == null ? "" : e.note().replace("|", "\\|");
            sb.append("| ").append(s.nr).append(" | ").append(s.linuxName()).append(" | ").append(support)
                    .append(" | ").append(note).append(" |\n");
        }
        return sb.toString();
    }
}
