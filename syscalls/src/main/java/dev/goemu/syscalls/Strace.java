package dev.goemu.syscalls;

import java.io.PrintStream;

/**
 * strace-style lines: {@code [pid/tid] name(args) = result}, blocked calls as unfinished/resumed pairs. Every
 * emulated process of the JVM traces to the same stream, like {@code strace -f}; the pid says which process made
 * the call (a process's first thread has its pid as tid), and each line is printed whole, so processes running
 * on their own host threads never split each other's lines.
 */
final class Strace {
    private static final int MAX_SHOWN = 32;
    private final PrintStream out;
    private final AddressSpace memory;
    private final int pid;
    /** The fds whose origin decides a read's mark in a deterministic run ({@link HostInputs}); null: no marks. */
    private final FdTable marked;
    /** Whether the process has a native child, whose end a wait sees at a time the host decides. */
    private final java.util.function.BooleanSupplier nativeChildren;

    Strace(PrintStream out, AddressSpace memory, int pid, FdTable marked, java.util.function.BooleanSupplier nativeChildren) {
        this.out = out;
        this.memory = memory;
        this.pid = pid;
        this.marked = marked;
        this.nativeChildren = nativeChildren;
    }

    private String who(Task t) {
        return "[" + pid + "/" + t.tid + "] ";
    }

    void call(Task t, SyscallTable.Entry e, long[] args, long result) {
        String head = who(t) + e.name() + "(" + formatArgs(e.args(), args) + ")";
        out.println(result == Kernel.BLOCKED ? head + " <unfinished ...>" : head + " = " + formatResult(e.name(), result) + mark(e, args));
    }

    void resumed(Task t, SyscallTable.Entry e, long result) {
        out.println(who(t) + "<... " + e.name() + " resumed> = " + formatResult(e.name(), result) + mark(e, t.blockedArgs));
    }

    /** A deterministic run's trailing note on a call whose result the host decides, as strace appends its notes. */
    private String mark(SyscallTable.Entry e, long[] args) {
        String why = marked == null ? null : HostInputs.reason(e.sys(), args, marked, nativeChildren);
        return why == null ? "" : " <nondeterministic: " + why + ">";
    }

    void unimplemented(Task t, long nr, long[] args) {
        out.printf("%s%s(0x%x, 0x%x, 0x%x, ...) = -1 ENOSYS (not implemented by goemu)%n",
                who(t), Sys.name(nr), args[0], args[1], args[2]);
    }

    /** A signal delivery or other kernel event, in strace's "--- ... ---" form. */
    void event(Task t, String what) {
        out.println(who(t) + "--- " + what + " ---");
    }

    /** The process ended (not by execve), as strace's last line for it. */
    void ended(int waitStatus) {
        out.println("[" + pid + "] +++ " + (WaitStatus.signaled(waitStatus)
                ? "killed by " + SignalNames.name(WaitStatus.termSignal(waitStatus)) : "exited with " + WaitStatus.exitCode(waitStatus)) + " +++");
    }

    private String formatArgs(String spec, long[] args) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            if (i > 0) sb.append(", ");
            long v = args[i];
            switch (spec.charAt(i)) {
                case 'd' -> sb.append(v);
                case 'f' -> sb.append((int) v == -100 ? "AT_FDCWD" : Integer.toString((int) v));
                case 'o' -> sb.append('0').append(Long.toOctalString(v));
                case 's', 'l' -> sb.append(quotedString(v));
                case 'b' -> sb.append(quotedBuffer(v, i + 1 < args.length ? args[i + 1] : 0));
                default -> sb.append(v == 0 ? "0" : "0x" + Long.toHexString(v));
            }
        }
        return sb.toString();
    }

    private String quotedString(long addr) {
        if (addr == 0) return "NULL";
        try {
            byte[] s = memory.readCString(addr, 4096).getBytes();
            return quote(s, s.length);
        } catch (GuestFault f) {
            return "0x" + Long.toHexString(addr);
        }
    }

    private String quotedBuffer(long addr, long len) {
        if (addr == 0) return "NULL";
        try {
            return quote(memory.read(addr, (int) Math.min(len, MAX_SHOWN)), (int) len);
        } catch (GuestFault f) {
            return "0x" + Long.toHexString(addr);
        }
    }

    private static String quote(byte[] bytes, int total) {
        StringBuilder sb = new StringBuilder("\"");
        for (byte b : bytes) {
            switch (b) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (b >= 32 && b < 127) sb.append((char) b); else sb.append(String.format("\\x%02x", b & 0xff));
                }
            }
        }
        sb.append('"');
        if (total > bytes.length) sb.append("...");
        return sb.toString();
    }

    private static String formatResult(String name, long r) {
        if (r < 0 && r > -4096) return "-1 " + Errno.name((int) -r);
        return name.equals("mmap") || name.equals("brk") ? "0x" + Long.toHexString(r) : Long.toString(r);
    }
}
