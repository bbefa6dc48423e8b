package dev.goemu.emulator;

import dev.goemu.loader.SymbolTable;
import dev.goemu.unicorn.MemType;
import dev.goemu.unicorn.UnicornException;

/** The guest hit a CPU fault nothing handled: one line for the user, and the signal a shell would report. */
public final class GuestCrash extends RuntimeException {
    private static final int SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;
    private final int signal;

    private GuestCrash(int signal, String message) {
        super(message, null, false, false);
        this.signal = signal;
    }

    /** The exit status a shell shows for a process killed by this signal. */
    public int exitStatus() {
        return 128 + signal;
    }

    static GuestCrash memory(int type, long address, long pc, int tid, SymbolTable symbols) {
        String what = switch (type) {
            case MemType.READ_UNMAPPED -> "read of unmapped address";
            case MemType.WRITE_UNMAPPED -> "write to unmapped address";
            case MemType.FETCH_UNMAPPED -> "jump to unmapped address";
            case MemType.WRITE_PROT -> "write to read-only address";
            case MemType.READ_PROT -> "read of protected address";
            case MemType.FETCH_PROT -> "jump to non-executable address";
            default -> "bad access to address";
        };
        return new GuestCrash(SIGSEGV, String.format("guest fault: SIGSEGV (%s 0x%x) at %s, thread %d",
                what, address, where(pc, symbols), tid));
    }

    static GuestCrash interrupt(int intno, long pc, int tid, SymbolTable symbols) {
        int sig = switch (intno) {
            case 0 -> SIGFPE;
            case 3 -> SIGTRAP;
            case 6 -> SIGILL;
            default -> SIGSEGV;
        };
        String name = switch (sig) {
            case SIGFPE -> "SIGFPE (integer divide error)";
            case SIGTRAP -> "SIGTRAP (breakpoint)";
            case SIGILL -> "SIGILL (invalid instruction)";
            default -> "SIGSEGV (CPU exception " + intno + ")";
        };
        return new GuestCrash(sig, String.format("guest fault: %s at %s, thread %d", name, where(pc, symbols), tid));
    }

    static GuestCrash engine(UnicornException e, long pc, int tid, SymbolTable symbols) {
        return new GuestCrash(SIGSEGV, String.format("guest fault: %s at %s, thread %d", e.getMessage(), where(pc, symbols), tid));
    }

    private static String where(long pc, SymbolTable symbols) {
        return symbols.containing(pc)
                .map(s -> String.format("pc 0x%x (%s+0x%x)", pc, s.name(), pc - s.value()))
                .orElse(String.format("pc 0x%x", pc));
    }
}
