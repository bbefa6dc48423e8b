package dev.goemu.emulator;

/** Which programs a guest's execve runs emulated (in this JVM) and which the host runs natively. */
public enum ChildPolicy {
    /** Static x86-64 ELF programs emulated, everything else (dynamically linked, scripts) on the host. */
    AUTO,
    /** Every program on the host. */
    NATIVE,
    /** Only static x86-64 ELF programs, emulated; anything else fails with ENOEXEC. */
    EMULATED
}
