package dev.goemu.emulator;

import dev.goemu.loader.ElfFile;
import dev.goemu.loader.SymbolTable;

/**
 * The guest died of a CPU fault it did not handle, or Linux would have killed it while execve set it up: one line
 * for the user, and the status a shell would show.
 */
public final class GuestCrash extends RuntimeException {
    private final int signal;

    GuestCrash(Fault fault, long pc, int tid, SymbolTable symbols) {
        super(String.format("guest fault: %s at %s, thread %d", fault.description(), where(pc, symbols), tid), null, false, false);
        this.signal = fault.signal();
    }

    public int signal() {
        return signal;
    }

    private GuestCrash(String message, int signal) {
        super(message, null, false, false);
        this.signal = signal;
    }

    /** Linux fails execve after its point of no return: the new process is killed with SIGSEGV before it runs. */
    static GuestCrash atExec(ElfFile elf, String reason) {
        return new GuestCrash(elf.path() + ": " + reason + "; Linux kills the process as it starts (SIGSEGV)", Fault.SIGSEGV);
    }

    /** The exit status a shell shows for a process killed by this signal. */
    public int exitStatus() {
        return 128 + signal;
    }

    private static String where(long pc, SymbolTable symbols) {
        return symbols.containing(pc)
                .map(s -> String.format("pc 0x%x (%s+0x%x)", pc, s.name(), pc - s.value()))
                .orElse(String.format("pc 0x%x", pc));
    }
}
