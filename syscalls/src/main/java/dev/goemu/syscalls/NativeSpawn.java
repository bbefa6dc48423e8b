package dev.goemu.syscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Starts a program on the host for a guest's execve, with glibc's posix_spawn: the guest's fds on their numbers
 * (nothing else of the JVM's), its cwd, signal mask and session or group; the host process then is the guest
 * process. A reaper thread per native child waits for it and records its end in the process table.
 */
final class NativeSpawn {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final int POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08,
            POSIX_SPAWN_SETSID = 0x80;
    /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336: room to spare. */
    private static final long ACTIONS_SIZE = 256, ATTR_SIZE = 512, SIGSET_SIZE = 128;
    private static final int O_RDWR = 2, SIGKILL = 9, SIGSTOP = 19, F_DUPFD_CLOEXEC = 1030, P_PID = 1, WEXITED = 4;

    private static final MethodHandle SPAWN = fn("posix_spawn", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
    private static final MethodHandle ACTIONS_INIT = fn("posix_spawn_file_actions_init", JAVA_INT, ADDRESS);
    private static final MethodHandle ACTIONS_DESTROY = fn("posix_spawn_file_actions_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle ADD_DUP2 = fn("posix_spawn_file_actions_adddup2", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle ADD_CLOSE = fn("posix_spawn_file_actions_addclose", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle ADD_OPEN = fn("posix_spawn_file_actions_addopen", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle ADD_CLOSEFROM = fn("posix_spawn_file_actions_addclosefrom_np", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle ADD_CHDIR = fn("posix_spawn_file_actions_addchdir_np", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle ATTR_INIT = fn("posix_spawnattr_init", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_DESTROY = fn("posix_spawnattr_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle SET_FLAGS = fn("posix_spawnattr_setflags", JAVA_INT, ADDRESS, JAVA_SHORT);
    private static final MethodHandle SET_SIGMASK = fn("posix_spawnattr_setsigmask", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SET_SIGDEFAULT = fn("posix_spawnattr_setsigdefault", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SET_PGROUP = fn("posix_spawnattr_setpgroup", JAVA_INT, ADDRESS, JAVA_INT);

    private NativeSpawn() {}

    private static MethodHandle fn(String name, java.lang.foreign.MemoryLayout ret, java.lang.foreign.MemoryLayout... args) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), FunctionDescriptor.of(ret, args));
    }

    /**
     * Spawns {@code path}; {@code fds} maps each guest fd number to its host fd (-1 closed). The guest's ignored
     * signals are not carried over (posix_spawn can only reset to default); everything else starts at default.
     * {@code ctty}: the controlling terminal a new session ({@code setsid}) takes, or null.
     * Returns the host pid or -errno.
     */
    static long spawn(String path, List<String> argv, List<String> envp, int[] fds, String cwd, long mask,
                      long ignored, boolean setsid, boolean ownGroup, String ctty) {
        int n = Math.max(fds.length, 3);
        int[] temps = new int[fds.length];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(ACTIONS_SIZE, 16), attr = arena.allocate(ATTR_SIZE, 16);
            check((int) ACTIONS_INIT.invokeExact(actions));
            check((int) ATTR_INIT.invokeExact(attr));
            try {
                // Sources first go above every target number, so no dup2 overwrites a fd another still needs.
                for (int g = 0; g < fds.length; g++) {
                    temps[g] = fds[g] < 0 ? -1 : (int) Host.syscall(Sys.FCNTL.nr, fds[g], F_DUPFD_CLOEXEC, n);
                    if (fds[g] >= 0 && temps[g] < 0) return temps[g];
                }
                for (int g = 0; g < n; g++) {
                    int r = g < fds.length && temps[g] >= 0 ? (int) ADD_DUP2.invokeExact(actions, temps[g], g)
                            : (int) ADD_CLOSE.invokeExact(actions, g);
                    if (r != 0) return -r;
                }
                check((int) ADD_CLOSEFROM.invokeExact(actions, n));
                if (ctty != null) { // opened after setsid (glibc applies the attributes first): it becomes the session's terminal
                    check((int) ADD_OPEN.invokeExact(actions, n, arena.allocateFrom(ctty), O_RDWR, 0));
                    check((int) ADD_CLOSE.invokeExact(actions, n));
                }
                check((int) ADD_CHDIR.invokeExact(actions, arena.allocateFrom(cwd)));
                MemorySegment sigs = arena.allocate(SIGSET_SIZE, 8);
                sigs.set(JAVA_LONG, 0, mask);
                check((int) SET_SIGMASK.invokeExact(attr, sigs));
                MemorySegment defaults = arena.allocate(SIGSET_SIZE, 8);
                defaults.set(JAVA_LONG, 0, ~ignored & ~(SignalSyscalls.bit(SIGKILL) | SignalSyscalls.bit(SIGSTOP)));
                check((int) SET_SIGDEFAULT.invokeExact(attr, defaults));
                int flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
                if (setsid) flags |= POSIX_SPAWN_SETSID;
                if (ownGroup) {
                    flags |= POSIX_SPAWN_SETPGROUP;
                    check((int) SET_PGROUP.invokeExact(attr, 0));
                }
                check((int) SET_FLAGS.invokeExact(attr, (short) flags));
                MemorySegment pid = arena.allocate(JAVA_INT);
                int r = (int) SPAWN.invokeExact(pid, arena.allocateFrom(path), actions, attr,
                        strings(arena, argv), strings(arena, envp));
                return r != 0 ? -r : pid.get(JAVA_INT, 0);
            } finally {
                for (int t : temps) if (t > 0) Host.syscall(Sys.CLOSE.nr, t, 0, 0);
                int ignoredA = (int) ACTIONS_DESTROY.invokeExact(actions), ignoredB = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (SpawnError e) {
            return -e.errno;
        } catch (Throwable t) {
            throw new IllegalStateException("posix_spawn", t);
        }
    }

    /** Waits (on a thread of its own) for the native process {@code p} to end, and records how it ended. */
    static void reap(GuestProcess p) {
        int hostPid = p.hostPid;
        Thread.ofPlatform().daemon().name("goemu-reaper-" + hostPid).start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment info = arena.allocate(128, 8);
                long r;
                do {
                    r = Host.syscall(Sys.WAITID.nr, P_PID, hostPid, info.address(), WEXITED, 0, 0);
                } while (r == -Errno.EINTR);
                int code = info.get(JAVA_INT, 8), status = info.get(JAVA_INT, 24);
                p.table.ended(p, r < 0 ? WaitStatus.exited(127)
                        : code == ChildSyscalls.CLD_EXITED ? WaitStatus.exited(status) : WaitStatus.killed(status, code == 3));
            }
        });
    }

    private static MemorySegment strings(Arena arena, List<String> list) {
        MemorySegment array = arena.allocate(ADDRESS, list.size() + 1L);
        for (int i = 0; i < list.size(); i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(list.get(i)));
        array.setAtIndex(ADDRESS, list.size(), MemorySegment.NULL);
        return array;
    }

    private static final class SpawnError extends Exception {
        final int errno;

        SpawnError(int errno) {
            super(null, null, false, false);
            this.errno = errno;
        }
    }

    private static void check(int r) throws SpawnError {
        if (r != 0) throw new SpawnError(r);
    }
}
