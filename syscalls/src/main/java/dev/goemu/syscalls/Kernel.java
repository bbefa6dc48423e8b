package dev.goemu.syscalls;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * goemu's Linux kernel: the syscall table, guest memory, fds and threads of one guest process. The CPU layer
 * calls {@link #syscall} from its SYSCALL hook for the running task and asks {@link #scheduler()} what to run.
 */
public final class Kernel {
    /** A handler's answer when the calling task blocked: its result comes later, when it is woken. */
    public static final long BLOCKED = Long.MIN_VALUE;

    /** @param strace where to trace every syscall, or null; diagnostics: goemu's own warnings (stderr) */
    public record Config(String exePath, int cpus, PrintStream strace, PrintStream diagnostics) {}

    final Config config;
    final AddressSpace memory;
    final Machine machine;
    final FdTable fds = new FdTable();
    final Limits limits = new Limits(fds);
    final Scheduler scheduler;
    final SignalSyscalls signals;
    /** Host passthrough and blocking-fd waits, shared by the syscall families. */
    final Passthrough passthrough = new Passthrough(this);
    final Blocking blocking = new Blocking(this);
    final int pid = (int) ProcessHandle.current().pid();
    final int uid = (int) Host.syscall(102, 0, 0, 0);
    private final SyscallTable table = new SyscallTable();
    private final Set<Long> reportedUnimplemented = new HashSet<>();
    private final Set<Integer> reportedInternalErrors = new HashSet<>();
    private final ConcurrentLinkedQueue<Integer> hostSignals = new ConcurrentLinkedQueue<>();
    private final Strace strace;
    private int nextTid;
    private boolean exited;
    private int exitStatus;

    /** The syscall being handled: a handler that blocks is re-run with the same arguments; passthrough reads its row. */
    private SyscallTable.Entry current;
    private long[] currentArgs;
    /** Every call's arguments, reused: handlers do not keep them, and a call that blocks copies them to its task. */
    private final long[] args = new long[6];
    /** Clone children whose registers the CPU layer has not yet copied from their parent. */
    private final ArrayDeque<Task> newThreads = new ArrayDeque<>();

    public Kernel(Config config, AddressSpace memory, Machine machine) {
        this.config = config;
        this.memory = memory;
        this.machine = machine;
        this.strace = config.strace() == null ? null : new Strace(config.strace(), memory);
        this.scheduler = new Scheduler(new Scheduler.Retrier() {
            @Override public long retry(Task task, int nr, long[] args) { return invoke(task, nr, args); }
            @Override public void resumed(Task task, int nr, long result) { if (strace != null) strace.resumed(task, table.get(nr), result); }
            @Override public void beforeDecision() { takeHostSignals(); }
        }, fds);
        this.signals = new SignalSyscalls(this);
        new MemorySyscalls(this).register(table);
        new ThreadSyscalls(this).register(table);
        new TimeSyscalls(this).register(table);
        signals.register(table);
        new FileSyscalls(this).register(table);
        new PollSyscalls(this).register(table);
        new ProcessSyscalls(this).register(table);
        new SocketSyscalls(this).register(table);
        nextTid = pid;
    }

    public Scheduler scheduler() { return scheduler; }

    /** The syscall table, for the compatibility document. */
    public SyscallTable table() { return table; }

    /** The row of the syscall being handled. */
    SyscallTable.Entry currentEntry() { return current; }

    /** The process's first thread; its tid is the pid, as on Linux. */
    public Task createMainTask() {
        return newTask();
    }

    Task newTask() {
        Task t = new Task(nextTid++);
        scheduler.add(t);
        return t;
    }

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

    public boolean exited() { return exited; }

    public int exitStatus() { return exitStatus; }

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
        hostSignals.add(sig);
        scheduler.interrupt();
    }

    private void takeHostSignals() {
        for (Integer sig; (sig = hostSignals.poll()) != null; ) {
            signals.sendToProcess(sig, new SignalFrame.Info(sig, SignalFrame.Info.SI_USER, 0, 0, 0, 0));
        }
    }

    /** An event line for --strace; {@code what} is formatted only when tracing. */
    void traceEvent(Task task, java.util.function.Supplier<String> what) {
        if (strace != null) strace.event(task, what.get());
    }

    void exitProcess(int status) {
        exited = true;
        exitStatus = status;
        machine.stopAfterSyscall();
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

    /** Blocks the calling task; handlers return this value. */
    long block(Task task, Wait wait) {
        if (currentArgs != task.blockedArgs) System.arraycopy(currentArgs, 0, task.blockedArgs, 0, 6);
        scheduler.block(task, wait, current.nr());
        return BLOCKED;
    }
}
