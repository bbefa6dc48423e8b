package dev.goemu.syscalls;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;

/**
 * The guest's umask is per process ({@link GuestProcess#umask}, inherited by children) and goemu applies it to
 * the modes of creating calls itself, so the JVM's own umask is 0 from the first guest on: the host applies
 * nothing else, and one guest's umask never leaks into another's files. A native child needs the guest's umask as
 * a real one, and posix_spawn has no action for it; since the umask is process-wide on the host, the JVM's is set
 * to the guest's just around posix_spawn (the child inherits it at its clone). Creating calls hold the read side
 * of a lock that spawning holds exclusively, so none runs with a spawn's umask in place; they never wait for each
 * other. (A tiny exec wrapper would cost a second exec per child and a shell on the host.)
 */
final class Umask {
    /** The host's umask when goemu started, the root guest's; reading it leaves the JVM's at 0. */
    static final int AT_START = (int) Host.syscall(Sys.UMASK.nr, 0, 0, 0);
    private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();

    private Umask() {}

    /** A creating call's mode with the process's umask applied (file type bits kept, as mknod's). */
    static long apply(long mode, GuestProcess p) {
        return mode & ~(long) p.umask;
    }

    /** Runs a host call that creates a file with an already masked mode. */
    static long creating(LongSupplier call) {
        LOCK.readLock().lock();
        try {
            return call.getAsLong();
        } finally {
            LOCK.readLock().unlock();
        }
    }

    /** Runs posix_spawn with the host umask set to {@code umask}, so the native child starts with it. */
    static long spawning(int umask, LongSupplier spawn) {
        LOCK.writeLock().lock();
        try {
            Host.syscall(Sys.UMASK.nr, umask, 0, 0);
            return spawn.getAsLong();
        } finally {
            Host.syscall(Sys.UMASK.nr, 0, 0, 0);
            LOCK.writeLock().unlock();
        }
    }
}
