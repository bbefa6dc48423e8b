package dev.goemu.syscalls;

import dev.goemu.loader.LoadSegment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * /proc/self as the guest must see it: its own process, never the JVM (the host's /proc/self, /proc/thread-self
 * and /proc/&lt;pid&gt; of the root guest, whose pid is the JVM's). Every guest path goes through {@link #hostPath};
 * one under /proc/self, /proc/thread-self, /proc/&lt;own pid&gt; or /proc/&lt;own tid&gt; becomes a path in a host
 * directory that goemu fills from its own state when the path is used: files (maps, status, stat, statm, comm,
 * cmdline, environ, auxv, limits, fdinfo/N) are written then, a snapshot as a read of /proc is; fd/ holds symlinks
 * named by guest fds; task/ a directory per guest thread. A path naming guest fd N itself reaches the host's
 * magic link of its host fd, so opening or stat-ing it is Linux's own answer. mem is an empty file whose guest fds
 * read and write guest memory ({@link #readMem}). A few process-wide entries (cgroup, mounts, net, ns) are the
 * JVM's, which are the guest's too; other names do not exist. Other processes' /proc entries are the host's: a
 * native child's are real; an emulated child's pid is not a host pid (ENOENT); the root guest's, seen from a
 * child, would be the JVM's and are ENOENT.
 *
 * <p>A host open that still reaches the JVM's /proc (through a symlink, or relative to a host /proc dirfd) is caught
 * after the fact by its canonical path ({@link #vetOpen}).
 */
final class ProcSelf {
    /** What a guest fd on one of goemu's /proc files is (FdTable keeps it per fd). */
    static final byte NONE = 0, MEM = 1, DIR = 2;
    static final int JVM_PID = (int) ProcessHandle.current().pid();
    private static final String ABSENT = "/proc/self/fd/-1"; // no such file on any host
    /** Process-wide entries the host answers for the JVM exactly as for the guest: same cgroup, mounts, network. */
    private static final Set<String> HOST_ENTRIES = Set.of("cgroup", "cpuset", "mountinfo", "mounts", "mountstats",
            "net", "ns", "uid_map", "gid_map", "projid_map", "setgroups", "oom_score", "oom_score_adj", "loginuid", "sessionid");
    private static final List<String> FILES = List.of("maps", "status", "stat", "statm", "comm", "cmdline", "environ",
            "auxv", "limits");
    private static final List<String> TASK_FILES = List.of("comm", "stat", "status");
    private static final long PROC_DEV = deviceOf("/proc");
    private static final List<String> THP_SIZE_COMPONENTS = components(Determinism.THP_SIZE_PATH);
    private static final long RLIM_INFINITY = -1;
    /** stat's obsolete signal fields show the first 31 signals only, as Linux prints them. */
    private static final long LEGACY_MASK = 0x7fffffffL;

    private record FileId(long dev, long ino) {}

    /** A host file standing for a /proc entry: its kind, its process, its path below the process's directory. */
    private record Node(byte kind, int pid, String dir) {}

    private static final Map<FileId, Node> NODES = new ConcurrentHashMap<>();
    private static volatile Path root;

    private final Kernel k;
    Kernel.ImageLayout layout;

    ProcSelf(Kernel k) {
        this.k = k;
    }

    /** The kind of goemu /proc file the host file (dev, ino) is: for FdTable, at every install. */
    static byte kindOf(long dev, long ino) {
        if (NODES.isEmpty()) return NONE;
        Node n = NODES.get(new FileId(dev, ino));
        return n == null ? NONE : n.kind;
    }

    // ---- paths ----

    /** The host path for an absolute guest path: itself, unless it names this process's /proc entries. */
    String hostPath(String path) {
        boolean deterministic = k.deterministic() != null;
        if (!path.contains("proc") && !deterministic) return path;
        List<String> c = components(path);
        try {
            if (deterministic && c.equals(THP_SIZE_COMPONENTS)) return fixedFile("hpage_pmd_size", Determinism.THP_SIZE);
            if (c.size() < 2 || !c.get(0).equals("proc")) return path;
            return translate(c.get(1), c.subList(2, c.size()), path);
        } catch (IOException | UncheckedIOException e) {
            return ABSENT;
        }
    }

    /**
     * The program an execve of an absolute guest path runs: {@link #hostPath}, with goemu's /proc symlinks followed
     * (execve of /proc/self/exe runs the guest binary, which the new image's /proc/self/exe names).
     */
    String programPath(String path) {
        String h = hostPath(path);
        Path r = root;
        if (r == null || !h.startsWith(r.toString())) return h;
        try {
            return Path.of(h).toRealPath().toString();
        } catch (IOException e) {
            return h;
        }
    }

    /** The components of a path with "", "." and ".." taken out as the kernel would without symlinks. */
    static List<String> components(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (s.isEmpty() || s.equals(".")) continue;
            if (s.equals("..")) {
                if (!out.isEmpty()) out.removeLast();
            } else out.add(s);
        }
        return out;
    }

    private String translate(String who, List<String> rest, String original) throws IOException {
        // Every Go program reads cgroup and mountinfo at start: the host's own, with no directory of goemu's made.
        boolean own = who.equals("self") || who.equals("thread-self") || number(who) == k.pid;
        if (k.deterministic() != null) {
            String fixed = own && rest.size() == 1 ? rest.getFirst() : rest.isEmpty() && who.equals("mounts") ? who : null;
            if (fixed != null && Determinism.FIXED_PROC_FILES.containsKey(fixed)) {
                return fixedFile(fixed, Determinism.FIXED_PROC_FILES.get(fixed));
            }
        }
        if (own && !rest.isEmpty() && HOST_ENTRIES.contains(rest.getFirst())) return "/proc/" + JVM_PID + join(rest);
        Path base = base();
        switch (who) {
            case "self" -> {
                link(base, "self", Integer.toString(k.pid));
                return rest.isEmpty() ? base.resolve("self").toString() : process(rest);
            }
            case "thread-self" -> {
                Task t = k.currentTask();
                link(base, "thread-self", k.pid + "/task/" + t.tid);
                return rest.isEmpty() ? base.resolve("thread-self").toString() : task(t, rest);
            }
            default -> {
                int id = number(who);
                if (id == k.pid) return process(rest);
                Task t = id < 0 ? null : k.scheduler.task(id);
                if (t != null) return task(t, rest);
                if (id == JVM_PID || id > 0 && isJvmThread(id)) return ABSENT;
                return original;
            }
        }
    }

    /** /proc/&lt;pid&gt;/rest of this process. */
    private String process(List<String> rest) throws IOException {
        Path p = processDir();
        if (rest.isEmpty()) {
            refreshDir("");
            return p.toString();
        }
        String name = rest.getFirst();
        List<String> more = rest.subList(1, rest.size());
        if (FILES.contains(name)) {
            write(p, name, content(name, null));
        } else if (name.equals("exe") || name.equals("cwd") || name.equals("root")) {
            link(p, name, linkTarget(name));
        } else if (name.equals("mem")) {
            memFile(p);
        } else if (name.equals("fd") || name.equals("fdinfo")) {
            if (more.isEmpty()) refreshDir(name);
            else {
                int h = guestFdHost(more.getFirst());
                if (h < 0) return ABSENT;
                if (name.equals("fd")) return "/proc/self/fd/" + h + join(more.subList(1, more.size()));
                write(subDir("fdinfo"), more.getFirst(), fdinfo(h));
            }
        } else if (name.equals("task")) {
            if (more.isEmpty()) refreshDir("task");
            else {
                int tid = number(more.getFirst());
                Task t = tid < 0 ? null : k.scheduler.task(tid);
                return t == null ? ABSENT : task(t, more.subList(1, more.size()));
            }
        } else if (HOST_ENTRIES.contains(name)) {
            return "/proc/" + JVM_PID + join(rest);
        } else {
            return ABSENT;
        }
        return p + join(rest);
    }

    /** task/&lt;tid&gt;/rest: the thread's own comm, stat and status; its other entries are the process's. */
    private String task(Task t, List<String> rest) throws IOException {
        Path dir = taskDir(t);
        if (rest.isEmpty()) return dir.toString();
        if (!TASK_FILES.contains(rest.getFirst())) return process(rest);
        write(dir, rest.getFirst(), content(rest.getFirst(), t));
        return dir + join(rest);
    }

    private static String join(List<String> parts) {
        StringBuilder sb = new StringBuilder();
        for (String s : parts) sb.append('/').append(s);
        return sb.toString();
    }

    /** A decimal number as /proc names pids and fds (no sign, no leading zeros), or -1. */
    private static int number(String s) {
        if (s.isEmpty() || s.length() > 10 || (s.charAt(0) == '0' && s.length() > 1)) return -1;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1;
        long v = Long.parseLong(s);
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    private static boolean isJvmThread(int id) {
        return Files.exists(Path.of("/proc/" + JVM_PID + "/task/" + id), LinkOption.NOFOLLOW_LINKS);
    }

    private int guestFdHost(String name) {
        int fd = number(name);
        return fd < 0 ? -1 : k.fds.host(fd);
    }

    /**
     * readlink of a guest path naming a guest fd (/proc/self/fd/N): what the fd names, as the guest sees it (its
     * /proc files under /proc, not goemu's directory); null for any other path (the host answers).
     */
    String fdLink(String path) {
        if (!path.contains("proc")) return null;
        List<String> c = components(path);
        if (c.size() != 4 || !c.get(0).equals("proc") || !c.get(2).equals("fd")) return null;
        String who = c.get(1);
        int id = number(who);
        boolean own = who.equals("self") || who.equals("thread-self") || id == k.pid || id > 0 && k.scheduler.task(id) != null;
        if (!own) return null;
        int h = guestFdHost(c.get(3));
        return h < 0 ? "" : guestView(FdTable.hostFdPath(h));
    }

    /** A host fd's path as the guest sees it: goemu's /proc directory shows as /proc. */
    private static String guestView(String hostPath) {
        if (hostPath == null) return "";
        Path r = root;
        if (r == null || !hostPath.startsWith(r + "/p")) return hostPath;
        int slash = hostPath.indexOf('/', r.toString().length() + 1);
        return slash < 0 ? "/proc" : "/proc" + hostPath.substring(slash);
    }

    /**
     * A host open's result, checked: a file of the JVM's /proc reached in a way {@link #hostPath} could not see (a
     * symlink to /proc/self/mem, openat of "self/mem" in a host /proc dirfd) is closed, and the open is made again
     * for this process's own entry (the root guest's pid is the JVM's), or fails with ENOENT.
     */
    long vetOpen(long hostFd, long flags, long mode) {
        if (hostFd < 0 || deviceOfFd((int) hostFd) != PROC_DEV) return hostFd;
        String path = FdTable.hostFdPath((int) hostFd);
        List<String> c = path == null ? List.of() : components(path);
        if (c.size() < 3 || !c.get(0).equals("proc") || HOST_ENTRIES.contains(c.get(2))) return hostFd;
        int id = number(c.get(1));
        if (id != JVM_PID && (id < 0 || !isJvmThread(id))) return hostFd;
        Host.syscall(Sys.CLOSE.nr, hostFd, 0, 0);
        if (id != JVM_PID || k.pid != JVM_PID) return -Errno.ENOENT;
        try (Arena arena = Arena.ofConfined()) {
            String again = hostPath("/proc/self" + join(c.subList(2, c.size())));
            return Host.syscall(Sys.OPENAT.nr, -100, arena.allocateFrom(again).address(), flags, mode, 0, 0);
        }
    }

    // ---- the host directory ----

    /** goemu's /proc directory for this JVM (created on first use, removed at exit), and this process's part. */
    private Path base() throws IOException {
        Path r = root;
        if (r == null) {
            synchronized (ProcSelf.class) {
                if (root == null) {
                    // tmpfs where there is one: a mem fd's offset is its empty file's, and guest addresses reach
                    // 2^47, past what ext4 lets a file offset be.
                    Path shm = Path.of("/dev/shm");
                    Path parent = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
                    Path dir = newPrivateDirectory(parent, "goemu-proc-" + JVM_PID + "-");
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
                    root = dir;
                }
                r = root;
            }
        }
        Path b = r.resolve("p" + k.pid);
        if (!Files.isDirectory(b)) Files.createDirectories(b);
        return b;
    }

    /**
     * A new directory only this user may enter, named after the JVM's pid and a counter: Files.createTempDirectory
     * would set up a SecureRandom provider for the name, 10-50 ms of start-up.
     */
    private static Path newPrivateDirectory(Path parent, String prefix) throws IOException {
        for (int i = 0; ; i++) {
            try {
                return Files.createDirectory(parent.resolve(prefix + i),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException taken) {
                if (i >= 1000) throw taken;
            }
        }
    }

    private Path processDir() throws IOException {
        Path p = base().resolve(Integer.toString(k.pid));
        if (!Files.isDirectory(p)) {
            Files.createDirectories(p);
            register(p, DIR, "");
        }
        return p;
    }

    /** A deterministic run's fixed file (the same for every run in the JVM), written once. */
    private String fixedFile(String name, String content) throws IOException {
        Path f = base().resolve("fixed").resolve(name);
        synchronized (ProcSelf.class) {
            if (!Files.exists(f)) {
                Files.createDirectories(f.getParent());
                write(f.getParent(), name, utf8(content));
            }
        }
        return f.toString();
    }

    private Path subDir(String rel) throws IOException {
        Path d = processDir().resolve(rel);
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(d);
            register(d, DIR, rel);
        }
        return d;
    }

    private Path taskDir(Task t) throws IOException {
        Path d = subDir("task/" + t.tid);
        for (String f : TASK_FILES) write(d, f, content(f, t));
        return d;
    }

    private void register(Path p, byte kind, String dir) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
        NODES.put(new FileId((Long) a.get("dev"), (Long) a.get("ino")), new Node(kind, k.pid, dir));
    }

    private void memFile(Path p) throws IOException {
        Path mem = p.resolve("mem");
        if (Files.exists(mem, LinkOption.NOFOLLOW_LINKS)) return;
        Files.createFile(mem);
        register(mem, MEM, "mem");
    }

    /**
     * getdents of a guest fd on one of goemu's /proc directories: listed from the start, the directory is made
     * current first (Linux lists /proc as it is at each read).
     */
    void listing(int hostFd) {
        if (Host.syscall(Sys.LSEEK.nr, hostFd, 0, 1) != 0) return; // SEEK_CUR: only a listing from the start
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(144, 8);
            if (Host.syscall(Sys.FSTAT.nr, hostFd, st.address(), 0) < 0) return;
            Node n = NODES.get(new FileId(st.get(JAVA_LONG, 0), st.get(JAVA_LONG, 8)));
            if (n != null && n.kind == DIR && n.pid == k.pid) refreshDir(n.dir);
        } catch (IOException | UncheckedIOException e) {
            // the listing shows the directory as it was
        }
    }

    /** Makes a directory's entries current: "" (the process's own), fd, fdinfo, task or task/&lt;tid&gt;. */
    private void refreshDir(String rel) throws IOException {
        switch (rel) {
            case "" -> {
                Path p = processDir();
                for (String f : FILES) write(p, f, content(f, null));
                for (String l : List.of("exe", "cwd", "root")) link(p, l, linkTarget(l));
                memFile(p);
                for (String d : List.of("fd", "fdinfo", "task")) refreshDir(d);
            }
            case "fd", "fdinfo" -> {
                Path d = subDir(rel);
                Map<String, Object> want = new LinkedHashMap<>();
                for (int fd : k.fds.openFds()) {
                    int h = k.fds.host(fd);
                    want.put(Integer.toString(fd), rel.equals("fd") ? guestView(FdTable.hostFdPath(h)) : fdinfo(h));
                }
                sync(d, want);
            }
            case "task" -> {
                Path d = subDir("task");
                Map<String, Object> want = new LinkedHashMap<>();
                for (Task t : k.scheduler.tasks()) {
                    if (t.state() == Task.State.EXITED) continue;
                    taskDir(t);
                    want.put(Integer.toString(t.tid), d.resolve(Integer.toString(t.tid)));
                }
                sync(d, want);
            }
            default -> {
                if (rel.startsWith("task/")) {
                    Task t = k.scheduler.task(number(rel.substring(5)));
                    if (t != null) taskDir(t);
                }
            }
        }
    }

    /** Makes dir hold exactly {@code want}: a String is a symlink's target, bytes a file's content, a Path a directory kept. */
    private void sync(Path dir, Map<String, Object> want) throws IOException {
        try (Stream<Path> old = Files.list(dir)) {
            for (Path p : old.toList()) {
                if (!want.containsKey(p.getFileName().toString())) deleteTree(p);
            }
        }
        for (Map.Entry<String, Object> e : want.entrySet()) {
            if (e.getValue() instanceof String target) link(dir, e.getKey(), target);
            else if (e.getValue() instanceof byte[] bytes) write(dir, e.getKey(), bytes);
        }
    }

    /** Replaces dir/name with content at once: a guest fd already open on the old file keeps its snapshot. */
    private static void write(Path dir, String name, byte[] content) throws IOException {
        Path tmp = dir.resolve("." + name + ".new");
        Files.write(tmp, content);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void link(Path dir, String name, String target) throws IOException {
        Path l = dir.resolve(name);
        if (Files.isSymbolicLink(l) && Files.readSymbolicLink(l).toString().equals(target)) return;
        Path tmp = dir.resolve("." + name + ".new");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, Path.of(target.isEmpty() ? "?" : target));
        Files.move(tmp, l, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> all = Files.walk(p)) {
            for (Path q : all.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Map<String, Object> a = Files.readAttributes(q, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
                    NODES.remove(new FileId((Long) a.get("dev"), (Long) a.get("ino")));
                    Files.delete(q);
                } catch (IOException ignored) {
                    // gone already
                }
            }
        } catch (IOException ignored) {
            // gone already
        }
    }

    // ---- contents ----

    private String linkTarget(String name) {
        return switch (name) {
            case "exe" -> k.config.exePath();
            case "cwd" -> k.process.cwd;
            default -> "/";
        };
    }

    /** The thread's name: what PR_SET_NAME set, else the binary's name, at most 15 bytes as Linux keeps it. */
    String comm(Task t) {
        if (t != null && !t.name.isEmpty()) return t.name;
        byte[] b = Path.of(k.config.exePath()).getFileName().toString().getBytes(StandardCharsets.UTF_8);
        return new String(b, 0, Math.min(b.length, 15), StandardCharsets.UTF_8);
    }

    /** A /proc/self file (task: a thread's comm, stat or status; null: the process's). */
    private byte[] content(String name, Task task) {
        Task t = task != null ? task : k.scheduler.task(k.pid);
        int pid = task == null ? k.pid : t.tid;
        Kernel.ImageLayout l = layout;
        return switch (name) {
            case "maps" -> utf8(maps(k.memory.mappings(), l, k.config.exePath(), exeId(), k.memory.breakStart(),
                    k.memory.currentBreak()));
            case "status" -> utf8(status(t, pid));
            case "stat" -> utf8(stat(t, pid));
            case "statm" -> utf8(statm());
            case "comm" -> utf8(comm(t) + "\n");
            case "limits" -> utf8(limits());
            case "cmdline" -> l == null ? new byte[0] : guestBytes(l.argStart(), l.envStart());
            case "environ" -> l == null ? new byte[0] : guestBytes(l.envStart(), l.envEnd());
            case "auxv" -> {
                long[] aux = l == null ? new long[0] : l.auxv();
                ByteBuffer b = ByteBuffer.allocate(8 * aux.length).order(ByteOrder.LITTLE_ENDIAN);
                for (long w : aux) b.putLong(w);
                yield b.array();
            }
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Guest memory [from, to) of the initial stack (argv, envp strings), or nothing if the guest unmapped it. */
    private byte[] guestBytes(long from, long to) {
        try {
            return k.memory.peek(from, (int) Math.min(to - from, 1 << 24));
        } catch (GuestFault f) {
            return new byte[0];
        }
    }

    private byte[] fdinfo(int hostFd) {
        try {
            return Files.readAllBytes(Path.of("/proc/self/fdinfo/" + hostFd));
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private long[] exeId() {
        try {
            Map<String, Object> a = Files.readAttributes(Path.of(k.config.exePath()), "unix:dev,ino");
            return new long[] {(Long) a.get("dev"), (Long) a.get("ino")};
        } catch (IOException | UnsupportedOperationException e) {
            return new long[] {0, 0};
        }
    }

    private long ppid() {
        GuestProcess parent = k.process.parent;
        if (parent != null) return parent.pid();
        return k.process.root ? Host.syscall(Sys.GETPPID.nr, 0, 0, 0) : 1;
    }

    private long vmSize() {
        long n = 0;
        for (AddressSpace.Mapping m : k.memory.mappings()) n += m.end() - m.start();
        return n;
    }

    private String status(Task t, int pid) {
        long uid = Host.syscall(Sys.GETUID.nr, 0, 0, 0), euid = Host.syscall(Sys.GETEUID.nr, 0, 0, 0);
        long gid = Host.syscall(Sys.GETGID.nr, 0, 0, 0), egid = Host.syscall(Sys.GETEGID.nr, 0, 0, 0);
        long kb = 1024;
        int fdSize = Math.max(64, Integer.highestOneBit(Math.max(1, k.fds.openFds().length)) * 2);
        long pending = t == null ? 0 : t.pendingSignals, blocked = t == null ? 0 : t.signalMask;
        StringBuilder sb = new StringBuilder();
        sb.append("Name:\t").append(comm(t)).append('\n')
                .append(String.format("Umask:\t%04o%n", k.process.umask))
                .append("State:\t").append(state(t)).append('\n')
                .append("Tgid:\t").append(k.pid).append('\n')
                .append("Ngid:\t0\n")
                .append("Pid:\t").append(pid).append('\n')
                .append("PPid:\t").append(ppid()).append('\n')
                .append("TracerPid:\t0\n")
                .append("Uid:\t").append(uid).append('\t').append(euid).append('\t').append(euid).append('\t').append(euid).append('\n')
                .append("Gid:\t").append(gid).append('\t').append(egid).append('\t').append(egid).append('\t').append(egid).append('\n')
                .append("FDSize:\t").append(fdSize).append('\n')
                .append(String.format("VmPeak:\t%8d kB%n", vmSize() / kb))
                .append(String.format("VmSize:\t%8d kB%n", vmSize() / kb))
                .append(String.format("VmRSS:\t%8d kB%n", k.memory.touchedBytes() / kb))
                .append("Threads:\t").append(threads()).append('\n')
                .append(String.format("SigPnd:\t%016x%n", pending))
                .append(String.format("ShdPnd:\t%016x%n", k.signals.processPending()))
                .append(String.format("SigBlk:\t%016x%n", blocked))
                .append(String.format("SigIgn:\t%016x%n", k.signals.ignoredMask()))
                .append(String.format("SigCgt:\t%016x%n", k.signals.caughtMask()));
        return sb.toString();
    }

    private int threads() {
        int n = 0;
        for (Task t : k.scheduler.tasks()) if (t.state() != Task.State.EXITED) n++;
        return n;
    }

    private String state(Task t) {
        return t == null || t.state() != Task.State.BLOCKED ? "R (running)" : "S (sleeping)";
    }

    /** The 52 fields of /proc/&lt;pid&gt;/stat; what goemu does not track (times, faults) is 0. */
    private String stat(Task t, int pid) {
        long codeStart = 0, codeEnd = 0, dataStart = 0, dataEnd = 0;
        if (layout != null) {
            for (LoadSegment s : layout.segments()) {
                if ((s.perms() & LoadSegment.EXEC) != 0 && codeStart == 0) {
                    codeStart = s.start();
                    codeEnd = s.end();
                } else if ((s.perms() & LoadSegment.WRITE) != 0 && dataStart == 0) {
                    dataStart = s.start();
                    dataEnd = s.start() + s.fileSize();
                }
            }
        }
        long pending = t == null ? 0 : t.pendingSignals, blocked = t == null ? 0 : t.signalMask;
        String rssLimit = Long.toUnsignedString(k.limits.soft(5)); // RLIMIT_RSS
        Kernel.ImageLayout l = layout;
        return pid + " (" + comm(t) + ") " + state(t).charAt(0) + " " + ppid() + " " + k.process.pgid + " " + k.process.sid
                + " 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 " + threads() + " 0 0 " + vmSize() + " "
                + k.memory.touchedBytes() / AddressSpace.PAGE + " " + rssLimit + " " + codeStart + " " + codeEnd + " "
                + (l == null ? 0 : l.stackTop()) + " 0 0 " + (pending & LEGACY_MASK) + " " + (blocked & LEGACY_MASK) + " "
                + (k.signals.ignoredMask() & LEGACY_MASK) + " " + (k.signals.caughtMask() & LEGACY_MASK) + " 0 0 0 " + (k.process.root ? 17 : k.process.exitSignal) + " 0 0 0 0 0 0 "
                + dataStart + " " + dataEnd + " " + k.memory.breakStart() + " "
                + (l == null ? "0 0 0 0" : l.argStart() + " " + l.envStart() + " " + l.envStart() + " " + l.envEnd())
                + " 0\n";
    }

    private String statm() {
        long page = AddressSpace.PAGE, text = 0;
        if (layout != null) {
            for (LoadSegment s : layout.segments()) if ((s.perms() & LoadSegment.EXEC) != 0) text += s.end() - s.start();
        }
        return vmSize() / page + " " + k.memory.touchedBytes() / page + " 0 " + text / page + " 0 0 0\n";
    }

    private String limits() {
        String[][] names = {{"Max cpu time", "seconds"}, {"Max file size", "bytes"}, {"Max data size", "bytes"},
                {"Max stack size", "bytes"}, {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
                {"Max processes", "processes"}, {"Max open files", "files"}, {"Max locked memory", "bytes"},
                {"Max address space", "bytes"}, {"Max file locks", "locks"}, {"Max pending signals", "signals"},
                {"Max msgqueue size", "bytes"}, {"Max nice priority", ""}, {"Max realtime priority", ""},
                {"Max realtime timeout", "us"}};
        StringBuilder sb = new StringBuilder(String.format("%-25s %-20s %-20s %-10s%n", "Limit", "Soft Limit", "Hard Limit", "Units"));
        for (int r = 0; r < names.length; r++) {
            sb.append(String.format("%-25s %-20s %-20s ", names[r][0], limit(k.limits.soft(r)), limit(k.limits.hard(r))));
            sb.append(names[r][1].isEmpty() ? "\n" : String.format("%-10s%n", names[r][1]));
        }
        return sb.toString();
    }

    private static String limit(long v) {
        return v == RLIM_INFINITY ? "unlimited" : Long.toUnsignedString(v);
    }

    /**
     * /proc/self/maps as Linux prints it: the binary's segments with its path, device, inode and file offset (a
     * segment's bss past its file pages is an anonymous line of its own), [heap] for the break's pages, [stack] for
     * the main stack; neighbouring anonymous mappings alike in permissions and sharing merged, as Linux merges VMAs.
     * Other file mappings show as anonymous (goemu does not keep their paths).
     */
    static String maps(List<AddressSpace.Mapping> mappings, Kernel.ImageLayout layout, String exe, long[] exeId,
                       long heapStart, long heapEnd) {
        List<long[]> lines = new ArrayList<>(); // start, end, perms, shared, offset, named (1 exe, 2 heap, 3 stack, 0 none)
        for (AddressSpace.Mapping m : mappings) {
            int perms = m.perms();
            long shared = m.kind().shared() ? 1 : 0;
            long fileEnd = m.start();
            if (m.imageBytes() > 0 && layout != null) {
                fileEnd = Math.min(m.end(), AddressSpace.pageUp(m.start() + m.imageBytes()));
                lines.add(new long[] {m.start(), fileEnd, perms, shared, fileOffset(layout, m.start()), 1});
            }
            if (fileEnd >= m.end()) continue;
            long name = 0;
            if (heapEnd > heapStart && fileEnd >= heapStart && m.end() <= AddressSpace.pageUp(heapEnd)) name = 2;
            if (layout != null && fileEnd < layout.stackTop() && layout.stackTop() <= m.end()) name = 3;
            long[] prev = lines.isEmpty() ? null : lines.getLast();
            if (name == 0 && prev != null && prev[1] == fileEnd && prev[2] == perms && prev[3] == shared && prev[5] == 0) {
                prev[1] = m.end();
            } else {
                lines.add(new long[] {fileEnd, m.end(), perms, shared, 0, name});
            }
        }
        long dev = exeId[0];
        long major = (dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL, minor = dev & 0xff | (dev >>> 12) & ~0xffL;
        StringBuilder sb = new StringBuilder();
        for (long[] l : lines) {
            int p = (int) l[2];
            String head = String.format("%08x-%08x %c%c%c%c %08x %02x:%02x %d ", l[0], l[1],
                    (p & 1) != 0 ? 'r' : '-', (p & 2) != 0 ? 'w' : '-', (p & 4) != 0 ? 'x' : '-', l[3] != 0 ? 's' : 'p',
                    l[4], l[5] == 1 ? major : 0, l[5] == 1 ? minor : 0, l[5] == 1 ? exeId[1] : 0);
            sb.append(head);
            String name = l[5] == 1 ? exe : l[5] == 2 ? "[heap]" : l[5] == 3 ? "[stack]" : null;
            if (name != null) sb.append(" ".repeat(Math.max(0, 72 - head.length()))).append(' ').append(name);
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The file offset of guest address addr in the binary's segment holding it. */
    private static long fileOffset(Kernel.ImageLayout layout, long addr) {
        for (LoadSegment s : layout.segments()) {
            if (addr >= s.start() && addr < s.end()) return s.fileOffset() + (addr - s.start());
        }
        return 0;
    }

    // ---- /proc/self/mem ----

    /**
     * read or pread of a /proc/self/mem fd: guest memory at [pos, pos+count) into the guest buffer at buf, page by
     * page whatever the pages' protections, as Linux's forced access does; EIO if the first page is not mapped.
     */
    long readMem(long pos, long buf, long count) {
        return memCopy(pos, buf, count, false);
    }

    /** write or pwrite of a /proc/self/mem fd: the guest buffer at buf into guest memory at pos (even read-only pages). */
    long writeMem(long pos, long buf, long count) {
        return memCopy(pos, buf, count, true);
    }

    private long memCopy(long pos, long buf, long count, boolean toMemory) {
        if (count < 0) return -Errno.EINVAL;
        if (!AddressSpace.accessOk(buf, count)) return -Errno.EFAULT;
        long n = Math.min(count, Passthrough.MAX_RW_COUNT), done = 0;
        while (done < n) {
            long at = pos + done;
            int len = (int) Math.min(n - done, AddressSpace.PAGE - (at & (AddressSpace.PAGE - 1)));
            byte[] page;
            try {
                page = toMemory ? k.memory.read(buf + done, len) : k.memory.peek(at, len);
            } catch (GuestFault f) {
                if (done > 0) return done;
                return toMemory ? -Errno.EFAULT : -Errno.EIO;
            }
            try {
                if (toMemory) k.memory.poke(at, page);
                else k.memory.write(buf + done, page);
            } catch (GuestFault f) {
                if (done > 0) return done;
                return toMemory ? -Errno.EIO : -Errno.EFAULT;
            }
            done += len;
        }
        return done;
    }

    private static long deviceOf(String path) {
        try {
            return (Long) Files.getAttribute(Path.of(path), "unix:dev");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    private static long deviceOfFd(int hostFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(144, 8);
            return Host.syscall(Sys.FSTAT.nr, hostFd, st.address(), 0) < 0 ? -2 : st.get(JAVA_LONG, 0);
        }
    }
}
