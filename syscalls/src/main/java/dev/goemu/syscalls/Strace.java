package dev.goemu.syscalls;

import java.io.PrintStream;

/** strace-style lines: {@code [tid] name(args) = result}, blocked calls as unfinished/resumed pairs. */
final class Strace {
    private static final int MAX_SHOWN = 32;
    private final PrintStream out;
    private final AddressSpace memory;

    Strace(PrintStream out, AddressSpace memory) {
        this.out = out;
        this.memory = memory;
    }

    void call(Task t, SyscallTable.Entry e, long[] args, long result) {
        String head = "[" + t.tid + "] " + e.name() + "(" + formatArgs(e.args(), args) + ")";
        out.println(result == Kernel.BLOCKED ? head + " <unfinished ...>" : head + " = " + formatResult(e.name(), result));
    }

    void resumed(Task t, SyscallTable.Entry e, long result) {
        out.println("[" + t.tid + "] <... " + e.name() + " resumed> = " + formatResult(e.name(), result));
    }

    void unimplemented(Task t, long nr, long[] args) {
        out.printf("[%d] %s(0x%x, 0x%x, 0x%x, ...) = -1 ENOSYS (not implemented by goemu)%n",
                t.tid, Sys.name(nr), args[0], args[1], args[2]);
    }

    /** A signal delivery or other kernel event, in strace's "--- ... ---" form. */
    void event(Task t, String what) {
        out.println("[" + t.tid + "] --- " + what + " ---");
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
            return quote(memory.readCString(addr, 4096).getBytes(), Integer.MAX_VALUE);
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
