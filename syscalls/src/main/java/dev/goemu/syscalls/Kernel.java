package dev.goemu.syscalls;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * goemu's Linux kernel: the syscall table, guest memory, fds and threads of one guest process. The CPU layer
 * calls {@link #syscall} from its SYSCALL hook for the running task and asks {@link #scheduler()} what to run.
 */
public final class Kernel {
    /** A handler's answer when the calling task blocked: its result comes later, when it is woken. */
    public static final long BLOCKED = Long.MIN_VALUE;

    /**
     * @param strace where to trace every syscall, or null; diagnostics: goemu's own warnings (stderr);
     * spawner: runs what execve asks for (null: execve fails with ENOEXEC); deterministic: the settings of a
     * deterministic run, or null
     */
    public record Config(String exePath, int cpus, PrintStream strace, PrintStream diagnostics, Spawner spawner,
                         Determinism deterministic) {
        public Config(String exePath, int cpus, PrintStream strace, PrintStream diagnostics) {
            this(exePath, cpus, strace, diagnostics, null, null);
        }

        /** The same settings for a new image of {@code exePath}. */
        public Config forImage(String exePath) {
            return new Config(exePath, cpus, strace, diagnostics, spawner, deterministic);
        }
    }

    /**
     * What a new image starts with besides its memory: its process, its fd table (taken over), the kernel it
     * inherits from (null for a root: the host's limits, default dispositions), whose signal dispositions it takes
     * (caught ones reset to default when {@code exec}), resource limits, and itimers when {@code exec}; its first
     * thread's mask.
     */
    public record Start(GuestProcess process, FdTable fds, Kernel parent, boolean exec, long signalMask) {}

    final Config config;
    final AddressSpace memory;
    final Machine machine;
    /** The guest's time: the host's, or the CPU layer's virtual clock in deterministic mode. */
    final Clock clock;
    final FdTable fds;
    final GuestProcess process;
    final Limits limits;
    final Scheduler scheduler;
    final SignalSyscalls signals;
    final TimerSyscalls timers = new TimerSyscalls(this);
    final ChildSyscalls children;
    /** Host passthrough and blocking-fd waits, shared by the syscall families. */
    final Passthrough passthrough = new Passthrough(this);
    final Blocking blocking = new Blocking(this);
    final Offload offload = new Offload(this);
    final Cwd cwd = new Cwd(this);
    final ProcSelf proc = new ProcSelf(this);
    final int pid;
    final int uid = (int) Host.syscall(Sys.GETUID.nr, 0, 0, 0);
    private final SyscallTable table = new SyscallTable();
    private final Set<Long> reportedUnimplemented = new HashSet<>();
    private final Set<Integer> reportedInternalErrors = new HashSet<>();
    private final Set<String> reportedUnsupported = new HashSet<>();
    /** Signals from other host threads (goemu's own signal handler, other processes), taken at the next decision. */
    private final ConcurrentLinkedQueue<SignalFrame.Info> postedSignals = new ConcurrentLinkedQueue<>();
    /** Set by other processes' threads when a child of this process changed state. */
    private final AtomicBoolean childEvent = new AtomicBoolean();
    private final Strace strace;
    private final long firstMask;
    /** Deterministic mode's random bytes (getrandom, AT_RANDOM), or null. */
    private final java.util.SplittableRandom randomBytes;
    /** A host signal arrived at a point no other run would repeat (deterministic mode says so, once). */
    private boolean reproducibilityLost;
    private boolean exited;
    private int waitStatus;
    /** What a successful execve replaced this image with, for the CPU layer to run. */
    private Spawner.Image successor;
    /** A vfork child created by the running task's clone, for the CPU layer to run before the parent resumes. */
    private VforkChild vforkChild;
    /** A fork child asked for by the running task's clone, for the CPU layer to start. */
    private ForkChild forkChild;

    /** The syscall being handled: a handler that blocks is re-run with the same arguments; passthrough reads its row. */
    private SyscallTable.Entry current;
    /** The task whose syscall is being handled (/proc/thread-self). */
    private Task currentTask;
    private long[] currentArgs;
    /** Every call's arguments, reused: handlers do not keep them, and a call that blocks copies them to its task. */
    private final long[] args = new long[6];
    /** Clone children whose registers the CPU layer has not yet copied from their parent. */
    private final ArrayDeque<Task> newThreads = new ArrayDeque<>();

    /** The root guest: the JVM's pid, group and session, goemu's stdin, stdout and stderr. */
    public Kernel(Config config, AddressSpace memory, Machine machine) {
        this(config, memory, machine, FdTable.standard());
    }

    /**
     * The root guest with {@code fds} as its file table. In deterministic mode it has a process table of its own
     * (pid {@link Processes#FIRST_ID}, its own group and session), so its ids do not depend on what else the JVM runs.
     */
    public Kernel(Config config, AddressSpace memory, Machine machine, FdTable fds) {
        this(config, memory, machine, new Start(rootProcess(config), fds, null, false, 0));
    }

    private static GuestProcess rootProcess(Config config) {
        String cwd = System.getProperty("user.dir");
        if (config.deterministic() != null) {
            Processes own = new Processes(true);
            int pid = own.newId();
            GuestProcess root = own.root(pid, pid, pid, cwd);
            own.startsThread(root);
            return root;
        }
        return Processes.JVM.root((int) ProcessHandle.current().pid(), (int) Host.syscall(Sys.GETPGID.nr, 0, 0, 0),
                (int) Host.syscall(Sys.GETSID.nr, 0, 0, 0), cwd);
    }

    public Kernel(Config config, AddressSpace memory, Machine machine, Start start) {
        this.config = config;
        this.process = start.process();
        this.pid = process.pid;
        this.fds = start.fds();
        this.limits = new Limits(fds, start.parent() == null ? null : start.parent().limits, config.deterministic() != null);
        this.firstMask = start.signalMask();
        this.memory = memory;
        this.machine = machine;
        this.clock = machine.clock();
        Determinism det = config.deterministic();
        this.randomBytes = det == null ? null : det.random(pid, 1);
        if (det != null) fds.seedRandomDevices();
        this.strace = config.strace() == null ? null : new Strace(config.strace(), memory, pid, det == null ? null : fds,
                () -> process.table.hasNativeChild(process));
        this.scheduler = new Scheduler(new Scheduler.Retrier() {
            @Override public long retry(Task task, int nr, long[] args) { return invoke(task, nr, args); }
            @Override public void resumed(Task task, int nr, long result) { if (strace != null) strace.resumed(task, table.get(nr), result); }
            @Override public void beforeDecision() { takePostedEvents(); }
        }, fds, clock, det == null ? null : Schedule.of(det.strategy(), det.random(pid, 0)), process);
        this.signals = new SignalSyscalls(this);
        this.children = new ChildSyscalls(this);
        if (start.parent() != null) signals.inherit(start.parent().signals, start.exec());
        if (start.exec()) timers.inheritItimers(start.parent().timers); // fork inherits no timer
        new MemorySyscalls(this).register(table);
        new ThreadSyscalls(this).register(table);
        new TimeSyscalls(this).register(table);
        timers.register(table);
        signals.register(table);
        new FileSyscalls(this).register(table);
        new PollSyscalls(this).register(table);
        new ProcessSyscalls(this).register(table);
        new SocketSyscalls(this).register(table);
        children.register(table);
        cwd.register(table);
    }

    public Scheduler scheduler() { return scheduler; }

    /** The syscall table, for the compatibility document. */
    public SyscallTable table() { return table; }

    /** The row of the syscall being handled. */
    SyscallTable.Entry currentEntry() { return current; }

    /** The task whose syscall is being handled. */
    Task currentTask() { return currentTask; }

    /**
     * Where the loader put what /proc/self shows of the image: the argv and envp strings ([argStart, envStart),
     * [envStart, envEnd)), the auxiliary vector, the top of the main stack, the binary's segments.
     */
    public record ImageLayout(long argStart, long envStart, long envEnd, long[] auxv, long stackTop,
                              java.util.List<dev.goemu.loader.LoadSegment> segments) {}

    /** The loader placed the image: /proc/self describes it from now on. */
    public void imageLoaded(ImageLayout layout) {
        proc.layout = layout;
    }

    /** The process's first thread; its tid is the pid, as on Linux. */
    public Task createMainTask() {
        Task t = new Task(pid);
        t.signalMask = firstMask;
        scheduler.add(t);
        process.kernel = this; // the image is loaded: signals for the process come here now
        return t;
    }

    /** A new thread; its tid is unique in the JVM, so no two guest threads of any process share one. */
    Task newTask() {
        Task t = new Task(process.table.newId());
        scheduler.add(t);
        return t;
    }

    public GuestProcess process() { return process; }

    void cloned(Task child) {
        newThreads.add(child);
    }

    /**
     * A thread created since the last call, or null: the CPU layer copies the registers of its parent, which made
     * the clone call that stopped the CPU, before any other thread runs.
     */
    public Task takeNewThread() {
        return newThreads.poll();
    }

    /** This image is over: the process exited, was killed, or execve replaced the image ({@link #successor}). */
    public boolean exited() { return exited; }

    /** The status a shell shows: the exit code, or 128 + the signal that killed the process. */
    public int exitStatus() { return GuestProcess.shellStatus(waitStatus); }

    /** How the process ended, as wait4 reports it. */
    public int waitStatus() { return waitStatus; }

    /** The image execve started in place of this one, or null. */
    public Spawner.Image successor() { return successor; }

    /** The vfork child the running task's clone just created (once), or null. */
    public VforkChild takeVforkChild() {
        VforkChild c = vforkChild;
        vforkChild = null;
        return c;
    }

    /** The deterministic run's settings, or null. */
    public Determinism deterministic() { return config.deterministic(); }

    /** {@code n} random bytes for the guest (AT_RANDOM, getrandom): the host's, or the seed's in deterministic mode. */
    public byte[] randomBytes(int n) {
        byte[] out = new byte[n];
        if (randomBytes != null) {
            randomBytes.nextBytes(out);
            return out;
        }
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            var buf = arena.allocate(Math.max(n, 1));
            for (int got = 0; got < n; ) {
                long r = Host.syscall(Sys.GETRANDOM.nr, buf.address() + got, n - got, 0);
                if (r > 0) got += (int) r;
                else if (r != -Errno.EINTR) throw new IllegalStateException("getrandom: errno " + -r);
            }
            java.lang.foreign.MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, out, 0, n);
        }
        return out;
    }

    /** The file table, for the CPU layer to release when the process ends. */
    public FdTable fds() { return fds; }

    /** Delivers a pending signal to {@code task}, which is about to run: call before resuming it. */
    public void deliverSignals(Task task) {
        signals.deliver(task);
    }

    /**
     * The running task faulted (SIGSEGV, SIGFPE, SIGILL, SIGTRAP with si_code and address). True if the guest
     * handles it (deliver before resuming); false if the fault kills the process.
     */
    public boolean fault(Task task, int sig, int code, long addr, int trapno) {
        return signals.fault(task, new SignalFrame.Info(sig, code, 0, 0, addr, trapno));
    }

    /**
     * A signal sent to goemu by the host (a user's Ctrl-C, kill): the guest process receives it. Callable from any
     * thread; it is handed over at the scheduler's next decision, which also ends an idle wait for it.
     */
    public void hostSignal(int sig) {
        if (config.deterministic() != null && !reproducibilityLost) {
            reproducibilityLost = true;
            config.diagnostics().printf("goemu: signal %d from the host: delivered at the next deterministic point, but "
                    + "this run is no longer reproducible%n", sig);
        }
        postSignal(new SignalFrame.Info(sig, SignalFrame.Info.SI_USER, 0, 0, 0, 0));
    }

    /** A signal for this process from another host thread (another guest process); handed over like {@link #hostSignal}. */
    void postSignal(SignalFrame.Info info) {
        postedSignals.add(info);
        scheduler.interrupt();
    }

    /** A child ended (from any thread): the exit signal is sent and blocked waits are re-run at the next decision. */
    void childChanged(int exitSignal, int childPid) {
        if (exitSignal > 0 && exitSignal <= SignalSyscalls.NSIG) {
            postedSignals.add(new SignalFrame.Info(exitSignal, ChildSyscalls.CLD_EXITED, childPid, uid, 0, 0));
        }
        childEvent.set(true);
        scheduler.interrupt();
    }

    private void takePostedEvents() {
        for (SignalFrame.Info info; (info = postedSignals.poll()) != null; ) signals.sendToProcess(info.signo(), info);
        if (childEvent.getAndSet(false)) children.retryWaits();
    }

    /** For --strace: the process ended with {@code status} (a wait status) in this image. */
    public void traceEnd(int status) {
        if (strace != null) strace.ended(status);
    }

    /** An event line for --strace; {@code what} is formatted only when tracing. */
    void traceEvent(Task task, java.util.function.Supplier<String> what) {
        if (strace != null) strace.event(task, what.get());
    }

    void exitProcess(int code) {
        end(WaitStatus.exited(code));
    }

    /** The default action of a fatal signal. */
    void killProcess(int sig) {
        end(WaitStatus.killed(sig, false));
    }

    /** A fault nobody handles kills the process with its signal (the CPU layer reports it). */
    public void killedByFault(int sig) {
        end(WaitStatus.killed(sig, false));
    }

    private void end(int status) {
        exited = true;
        waitStatus = status;
        machine.stopAfterSyscall();
    }

    /**
     * A child made by clone(CLONE_VM|CLONE_VFORK): a new process sharing this one's memory, whose first thread
     * starts from the caller's registers (RAX 0, RSP {@code stack} unless 0) while the caller waits for it to exec
     * or exit. {@code flags} and {@code parentTid} are the clone's, applied by {@link #vforkDone}.
     */
    public record VforkChild(Kernel kernel, long stack, long flags, long parentTid) {}

    /** clone(CLONE_VM|CLONE_VFORK) by {@code caller}: the CPU layer runs the child, then asks {@link #vforkDone}. */
    long vfork(Task caller, long flags, long stack, long parentTid) {
        Start start = newChild(caller, flags, parentTid);
        if (start == null) return -Errno.EMFILE;
        Kernel k = new Kernel(config, memory, machine, start);
        k.scheduler.runsInTurnsOf(scheduler);
        k.createMainTask();
        vforkChild = new VforkChild(k, stack, flags, parentTid);
        machine.stopAfterSyscall();
        return start.process().pid;
    }

    /**
     * A new child process of clone's caller, with a copy of the fd table, and with CLONE_PIDFD the parent's pidfd
     * for it stored at {@code parentTid}; null if no fd is free for the pidfd (EMFILE, nothing made).
     */
    private Start newChild(Task caller, long flags, long parentTid) {
        boolean pidfd = (flags & ThreadSyscalls.CLONE_PIDFD) != 0;
        if (pidfd) memory.writeInt(parentTid, -1); // a bad pointer is EFAULT before anything is made
        GuestProcess child = process.table.child(process, (int) (flags & 0xff));
        FdTable childFds = fds.copy();
        if (pidfd) { // the parent's new pidfd is not the child's: Linux installs it after copying the fd table
            long fd = process.table.pidfds.open(child, fds, false);
            if (fd < 0) {
                childFds.closeAll();
                process.table.discard(child);
                return null;
            }
            memory.writeInt(parentTid, (int) fd);
        }
        return new Start(child, childFds, this, false, caller.signalMask);
    }

    /**
     * A child made by fork (clone without CLONE_VM): for the CPU layer to give a copy of this address space and a
     * CPU of its own, whose one thread starts from the caller's registers after the call (RAX 0, RSP {@code stack}
     * unless 0, FS base {@code tls} if {@code setTls}), with clone's CLONE_CHILD_SETTID/CLEARTID address.
     */
    public record ForkChild(Start start, long stack, long tls, boolean setTls, long childTid, boolean setChildTid,
                            boolean clearChildTid) {}

    long fork(Task caller, long flags, long stack, long parentTid, long childTid, long tls) {
        Start start = newChild(caller, flags, parentTid);
        if (start == null) return -Errno.EMFILE;
        int pid = start.process().pid;
        // Written before the copy, so the child's memory has it too, as Linux writes it before the child runs.
        if ((flags & ThreadSyscalls.CLONE_PARENT_SETTID) != 0) memory.writeInt(parentTid, pid);
        forkChild = new ForkChild(start, stack, tls, (flags & ThreadSyscalls.CLONE_SETTLS) != 0, childTid,
                (flags & ThreadSyscalls.CLONE_CHILD_SETTID) != 0, (flags & ThreadSyscalls.CLONE_CHILD_CLEARTID) != 0);
        machine.stopAfterSyscall();
        return pid;
    }

    /** The fork child the running task's clone just asked for (once), or null. */
    public ForkChild takeForkChild() {
        ForkChild c = forkChild;
        forkChild = null;
        return c;
    }

    /** The fork child could not get memory: it never ran, and the caller's fork fails with ENOMEM. */
    public long forkFailed(ForkChild c) {
        c.start().fds().closeAll();
        process.table.discard(c.start().process());
        return -Errno.ENOMEM;
    }

    /** The child's first thread, given the clone's CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID. */
    public Task createForkedTask(ForkChild c) {
        Task t = createMainTask();
        try {
            if (c.setChildTid()) memory.writeInt(c.childTid(), t.tid);
        } catch (GuestFault ignored) {
            // as Linux, a bad child_tid pointer does not undo the fork
        }
        if (c.clearChildTid()) t.clearChildTid = c.childTid();
        return t;
    }

    /**
     * The vfork child exec'd or ended: the parent's clone result (the child's pid, which is the host's if it
     * exec'd a native program), with CLONE_PARENT_SETTID applied. A child that ended without exec is recorded.
     */
    public long vforkDone(VforkChild c) {
        Kernel child = c.kernel();
        if (child.successor == null && child.process.hostPid == 0) {
            child.traceEnd(child.waitStatus);
            child.fds.closeAll();
            process.table.ended(child.process, child.waitStatus);
        }
        int pid = child.process.pid();
        if ((c.flags() & ThreadSyscalls.CLONE_PARENT_SETTID) != 0) {
            try {
                memory.writeInt(c.parentTid(), pid);
            } catch (GuestFault ignored) {
                // as Linux, a bad parent_tid pointer does not undo the clone
            }
        }
        return pid;
    }

    /** What an image execve starts in this process inherits; {@code caller}'s mask is its first thread's. */
    public Start execStart(Task caller) {
        return new Start(process, fds, this, true, caller.signalMask);
    }

    /** execve succeeded with an emulated image: close-on-exec fds go, this image is over, {@code next} runs. */
    public void execEmulated(Spawner.Image next) {
        fds.closeOnExec();
        successor = next;
        exited = true;
        machine.stopAfterSyscall();
    }

    /**
     * execve of a program the host runs: spawned with this process's fds, cwd, mask and group; from then on the
     * process is that host process (the table waits for it). Returns 0, or -errno if it could not start.
     */
    public long execNative(Task caller, String path, java.util.List<String> argv, java.util.List<String> envp) {
        boolean ownGroup = process.pgid == process.pid, ownSession = process.sid == process.pid;
        long hostPid = Umask.spawning(process.umask, () -> NativeSpawn.spawn(path, argv, envp, fds.inheritedByExec(),
                process.cwd, caller.signalMask, signals.ignoredMask(), ownSession, ownGroup && !ownSession,
                ownSession ? process.ctty : null));
        if (hostPid < 0) return hostPid;
        traceEvent(caller, () -> "runs natively as host pid " + hostPid + ", not traced");
        process.table.becameNative(process, (int) hostPid);
        NativeSpawn.reap(process);
        fds.closeAll();
        exited = true;
        machine.stopAfterSyscall();
        return 0;
    }

    /** Handles syscall {@code nr} of the running task; returns its result, or {@link #BLOCKED}. */
    public long syscall(Task task, long rax, long a0, long a1, long a2, long a3, long a4, long a5) {
        int nr = (int) rax; // Linux reads the number as an int: the high 32 bits of RAX are ignored
        SyscallTable.Entry e = table.get(nr);
        long[] args = this.args;
        args[0] = a0;
        args[1] = a1;
        args[2] = a2;
        args[3] = a3;
        args[4] = a4;
        args[5] = a5;
        if (e == null) {
            if (reportedUnimplemented.add((long) nr)) {
                config.diagnostics().printf("goemu: unimplemented syscall %s (%d) answered ENOSYS%n", Sys.name(nr), nr);
            }
            if (strace != null) strace.unimplemented(task, nr, args);
            return -Errno.ENOSYS;
        }
        long r = invoke(task, nr, args);
        if (r == BLOCKED) machine.stopAfterSyscall();
        if (strace != null) strace.call(task, e, args, r);
        return r;
    }

    private long invoke(Task task, int nr, long[] args) {
        current = table.get(nr);
        currentArgs = args;
        currentTask = task;
        try {
            return current.handler().call(task, args);
        } catch (GuestFault f) {
            return -Errno.EFAULT;
        } catch (RuntimeException | StackOverflowError e) {
            // A handler that throws on some guest input is goemu's bug, not the guest's: say so once, and let the
            // guest go on with an error it can handle, as it would from a kernel that refused the arguments.
            if (reportedInternalErrors.add(nr)) {
                config.diagnostics().printf("goemu: internal error in %s(0x%x, 0x%x, 0x%x, ...) at guest pc 0x%x: %s%n",
                        current.name(), args[0], args[1], args[2], machine.registers().get(Registers.RIP), e);
            }
            return -Errno.EINVAL;
        }
    }

    /** A warning on goemu's diagnostics stream, printed once per kernel. */
    void warnOnce(String message) {
        if (reportedUnsupported.add(message)) config.diagnostics().println(message);
    }

    /**
     * An implemented call given a flag or argument goemu does not support: reported once on stderr like an
     * unimplemented call, answered EINVAL as Linux answers flags it does not know.
     */
    long unsupported(int nr, String what) {
        if (reportedUnsupported.add(nr + " " + what)) {
            config.diagnostics().printf("goemu: unsupported %s in syscall %s (%d) answered EINVAL%n", what, Sys.name(nr), nr);
        }
        return -Errno.EINVAL;
    }

    /** Blocks the calling task; handlers return this value. */
    long block(Task task, Wait wait) {
        if (currentArgs != task.blockedArgs) System.arraycopy(currentArgs, 0, task.blockedArgs, 0, 6);
        scheduler.block(task, wait, current.nr());
        return BLOCKED;
    }
}
