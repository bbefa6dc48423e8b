package dev.goemu.emulator;

import dev.goemu.hooks.Debuggee;
import dev.goemu.loader.BadBinaryException;
import dev.goemu.loader.ElfFile;
import dev.goemu.syscalls.AddressSpace;
import dev.goemu.syscalls.Baton;
import dev.goemu.syscalls.Clock;
import dev.goemu.syscalls.Determinism;
import dev.goemu.syscalls.FdTable;
import dev.goemu.syscalls.GuestProcess;
import dev.goemu.syscalls.Spawner;
import dev.goemu.syscalls.Kernel;
import dev.goemu.syscalls.Machine;
import dev.goemu.syscalls.Registers;
import dev.goemu.syscalls.Scheduler;
import dev.goemu.syscalls.Task;
import dev.goemu.unicorn.Context;
import dev.goemu.unicorn.FastSyscalls;
import dev.goemu.unicorn.Hook;
import dev.goemu.unicorn.RegisterBatch;
import dev.goemu.unicorn.Unicorn;
import dev.goemu.unicorn.UnicornException;
import dev.goemu.unicorn.X86;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs one guest process: a single Unicorn engine whose CPU state is switched between guest threads (green
 * threads). A thread runs until it blocks, yields, exits or clones in a syscall, or until its time slice ends:
 * a timer interrupts the engine at its next block boundary, so a spinning thread cannot starve sysmon or a thread
 * whose sleep has ended. Signals are delivered whenever a thread is about to run.
 *
 * <p>As a {@link Debuggee} it also pauses at breakpoints and single-steps for the Go-aware tools; those hooks are
 * added only when a tool asks, so {@link #run()} on its own executes with no per-instruction or Java block hooks.
 */
public final class Emulator implements Debuggee, AutoCloseable, Spawner.Image {
    /** How often a running thread is interrupted so the scheduler can switch (Linux's slices are a few ms too). */
    public static final long DEFAULT_TIME_SLICE_NANOS = 2_000_000;

    /**
     * @param children which programs a guest's execve runs emulated and which on the host
     * @param deterministic a deterministic run's settings (virtual clock, seeded schedule), or null
     * @param stdio the host fds the root guest gets as its fds 0, 1 and 2, or null for goemu's own
     */
    public record Options(Path binary, List<String> argv, List<String> envp, int cpus, PrintStream strace,
                          long timeSliceNanos, ChildPolicy children, Determinism deterministic, List<Integer> stdio) {
        public Options(Path binary, List<String> argv, List<String> envp, int cpus, PrintStream strace, long timeSliceNanos) {
            this(binary, argv, envp, cpus, strace, timeSliceNanos, ChildPolicy.AUTO, null, null);
        }

        /** The same settings for the program a guest's execve starts (its fds are the process's by then). */
        Options forImage(Path program, List<String> newArgv, List<String> newEnvp) {
            return new Options(program, newArgv, newEnvp, cpus, strace, timeSliceNanos, children, deterministic, null);
        }
    }

    private final Options options;
    private final Unicorn cpu;
    /** This image's kernel; while a vfork child runs on this engine (its parent waiting), the child's. */
    private Kernel kernel;
    private final AddressSpace memory;
    /** Kept for its symbols, which only a crash report reads (reading them costs a hello-world run 0.1 s). */
    private final ElfFile elf;
    private final ProcessImage.Entry image;
    private final ScheduledExecutorService ticker;
    private final long timeSliceNanos;
    /** The native hooks' state; in deterministic mode also the block count and budget behind the virtual clock. */
    private final FastSyscalls fastPath;
    private final Clock clock;
    private final boolean deterministic;
    private final long[] resultSlot = new long[1];
    /** The SYSCALL hook's registers, each set moved in one call: number, six arguments, RIP, RFLAGS in; RAX, RCX, R11 out. */
    private final RegisterBatch syscallRegs, syscallResult;
    private Task current;
    private boolean inSyscall;
    private boolean stopAfterSyscall;
    /** Registers set by the kernel during a syscall (rt_sigreturn), applied once the CPU has stopped. */
    private Registers registersAfterSyscall;
    /** What made the CPU stop with an error, if a hook saw it. */
    private Fault fault;
    private boolean tickerStarted;
    /** Set by a hook that wants the guest paused where the CPU stopped. */
    private boolean pauseRequested;
    /** One code hook per breakpoint address, shared by every handler there. */
    private final Map<Long, BreakpointSite> sites = new HashMap<>();
    /** Where each thread paused at a breakpoint site: its first instruction there on resuming is not a new hit. */
    private final Map<Integer, Long> pausedAt = new HashMap<>();
    /** The (thread, pc) whose breakpoint site is passed once: set as that thread resumes where it paused. */
    private int skipTid = -1;
    private long skipPc = -1;
    /**
     * The thread being single-stepped: its pending signals wait for the next resume, so one step is one instruction
     * of the code being looked at, not of a handler (Go's preemption signal would otherwise arrive mid-step).
     */
    private int steppingTid = -1;

    private final class BreakpointSite {
        final Hook hook;
        final List<Handler> handlers = new ArrayList<>();

        BreakpointSite(long pc) {
            this.hook = cpu.onCode(pc, pc, (address, size) -> {
                if (current.tid == skipTid && address == skipPc) {
                    skipTid = -1;
                    return;
                }
                boolean stop = false;
                for (Handler h : List.copyOf(handlers)) stop |= h.hit(address);
                if (stop) pause();
            });
        }
    }
    private final List<Periodic> periodics = new ArrayList<>();
    /** The scheduler timer of the earliest periodic (armAlarm). */
    private final Scheduler.Timer periodicsAlarm = new Scheduler.Timer(this::runDuePeriodics);

    private static final class Periodic {
        final long period;
        final Runnable action;
        long due;

        Periodic(long period, Runnable action, long now) {
            this.period = period;
            this.action = action;
            this.due = now + period;
        }
    }

    /** The root guest. */
    public Emulator(Options options) throws BadBinaryException {
        this(options, readStatic(options.binary()), null);
    }

    static ElfFile readStatic(Path binary) throws BadBinaryException {
        ElfFile elf = ElfFile.read(binary);
        elf.requireStaticExecutable();
        return elf;
    }

    /** An image of {@code elf}; {@code start} (from {@link Kernel#execStart}) says which process execs it, null for the root. */
    Emulator(Options options, ElfFile elf, Kernel.Start start) throws BadBinaryException {
        this(options, elf, engineFor(elf), null, null, start);
    }

    /** A new engine for an image of {@code elf}, unless Linux would kill the process at exec (GuestCrash). */
    private static Unicorn engineFor(ElfFile elf) {
        elf.execFailure().ifPresent(reason -> { throw GuestCrash.atExec(elf, reason); });
        return Unicorn.openX86_64();
    }

    /**
     * A CPU with its kernel and memory: a fork child's ({@code forked}, a copy made for {@code cpu}, of the parent's
     * {@code forkedImage}) or, if null, a new image of {@code elf} loaded into new memory, its main thread ready.
     */
    private Emulator(Options options, ElfFile elf, Unicorn cpu, AddressSpace forked, ProcessImage.Entry forkedImage,
                     Kernel.Start start) {
        this.options = options;
        this.elf = elf;
        this.timeSliceNanos = options.timeSliceNanos();
        this.cpu = cpu;
        try {
            cpu.setLinuxFpuDefaults();
            cpu.disableExits(); // a jump to 0 is a guest fault, not the end of the run
            this.memory = forked != null ? forked : new AddressSpace(new UnicornMapper(cpu));
            Determinism det = options.deterministic();
            this.deterministic = det != null;
            // Time syscalls are answered in C, but --strace must see every syscall.
            this.fastPath = cpu.onSyscallWithFastPath(this::onSyscall, deterministic ? VirtualClock.NS_PER_BLOCK : 0);
            fastPath.setEnabled(options.strace() == null);
            this.clock = deterministic ? new VirtualClock(fastPath, det.epochNanos()) : Clock.HOST;
            String exe = options.binary().toAbsolutePath().normalize().toString();
            Kernel.Config config = new Kernel.Config(exe, options.cpus(), options.strace(), System.err, new Children(options), det);
            if (start != null) this.kernel = new Kernel(config, memory, new CpuMachine(), start);
            else if (options.stdio() == null) this.kernel = new Kernel(config, memory, new CpuMachine());
            else this.kernel = new Kernel(config, memory, new CpuMachine(), FdTable.of(options.stdio()));
            if (forked == null) {
                this.image = ProcessImage.load(elf, memory, options.argv(), options.envp(), kernel.randomBytes(16));
                kernel.imageLoaded(image.layout());
                kernel.createMainTask();
                cpu.setReg(X86.RSP, image.sp());
                cpu.setReg(X86.RIP, image.pc());
            } else {
                this.image = forkedImage;
                kernel.imageLoaded(image.layout());
            }
        } catch (RuntimeException | Error e) {
            cpu.close();
            throw e;
        }
        this.syscallRegs = cpu.batch(X86.RAX, X86.RDI, X86.RSI, X86.RDX, X86.R10, X86.R8, X86.R9, X86.RIP, X86.RFLAGS);
        this.syscallResult = cpu.batch(X86.RAX, X86.RCX, X86.R11);
        cpu.onInvalidMemory((type, address, size, value) -> {
            // The CPU gets guest memory on its first touch (AddressSpace.mapOnFault): then the access is retried.
            if (Fault.unmapped(type) && memory.mapOnFault(address)) return true;
            fault = memory.isPastEof(address) ? Fault.pastEndOfFile(address)
                    : Fault.memory(type, address, memory.isMapped(address));
            return false;
        });
        cpu.onInterrupt(intno -> {
            fault = Fault.interrupt(intno, cpu.reg(X86.RIP));
            cpu.stop();
        });
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "goemu-timeslice");
            t.setDaemon(true);
            return t;
        });
    }

    /** A signal the host sent to goemu, for the guest; callable from any thread. */
    public void forwardHostSignal(int sig) {
        kernel.hostSignal(sig);
        // The running thread stops soon, so the signal is not left waiting for a slice; a deterministic run takes
        // it at its next decision instead, which comes after at most one slice of blocks.
        if (!deterministic) cpu.interrupt();
    }

    /** Runs the guest to its end; returns its exit status, or throws {@link GuestCrash} if a fault killed it. */
    public int run() {
        runUntilPause();
        return kernel.exitStatus();
    }

    /**
     * Runs this image and every image an execve replaces it with, to the process's end, which goes into the
     * process table; returns the process's exit status as a shell shows it. A fault nobody handles ends the
     * process like its signal would ({@code crashes}: where the one-line report goes), or, if null, throws
     * {@link GuestCrash} as {@link #run} does.
     */
    public int runProcess(PrintStream crashes) {
        Emulator image = this;
        GuestProcess p = kernel.process();
        try {
            while (true) {
                try {
                    image.run();
                } catch (GuestCrash e) {
                    if (crashes == null) throw e;
                    crashes.println("goemu: " + e.getMessage());
                    image.kernel.killedByFault(e.signal());
                }
                if (!(image.kernel.successor() instanceof Emulator next)) break;
                if (deterministic) next.clock.advanceTo(image.clock.monotonic()); // an exec does not turn time back
                if (image != this) image.close();
                image = next;
            }
            int status;
            if (p.hostPid() > 0) {
                p.table().leavesThread(p, image.clock); // its end is the host's to tell
                status = p.awaitEnd();
            } else {
                status = image.kernel.waitStatus();
                image.kernel.traceEnd(status);
                image.kernel.fds().closeAll();
                p.table().ended(p, status);
            }
            return GuestProcess.shellStatus(status);
        } finally {
            p.table().leavesThread(p, image.clock);
            if (image != this) image.close();
        }
    }

    /**
     * Runs a new process's first emulated image (a fork child, what a vfork child exec'd) on a thread of its own, to
     * its end. It starts at this process's time and, in a deterministic run, takes its turns from now on.
     */
    private void startProcess(Emulator child) {
        GuestProcess p = child.kernel.process();
        if (deterministic) child.clock.advanceTo(clock.monotonic());
        p.table().startsThread(p);
        Thread.ofPlatform().name("goemu-process-" + p.pid()).start(() -> {
            try (child) {
                child.runProcess(System.err);
            } catch (Baton.RunOver e) {
                // the run ended with its first process: this one ends with it, as every process does with the JVM
            }
        });
    }

    /** Runs guest threads until the guest exits (false) or a hook pauses it (true, the CPU holding the paused thread). */
    private boolean runUntilPause() {
        if (!tickerStarted) {
            tickerStarted = true;
            if (!deterministic) ticker.scheduleAtFixedRate(cpu::interrupt, timeSliceNanos, timeSliceNanos, TimeUnit.NANOSECONDS);
            current = kernel.scheduler().next(null); // the main thread, whose registers the CPU already holds
        }
        while (!kernel.exited()) {
            // Before signals: a handler entered now returns to the breakpoint, which must then be passed, not hit.
            if (!pausedAt.isEmpty()) passBreakpointOnResume(current);
            if (current.tid != steppingTid) kernel.deliverSignals(current);
            if (kernel.exited()) break;
            if (deterministic) fastPath.setBudget(fastPath.blocks() + kernel.scheduler().sliceBlocks());
            try {
                cpu.start(cpu.reg(X86.RIP));
            } catch (UnicornException e) {
                if (fault == null) fault = Fault.engine(e, cpu.reg(X86.RIP));
            }
            // The interrupt hook stops the CPU without an error: a fault must not be retried as if nothing happened.
            if (fault != null) handleFault();
            if (kernel.exited()) break;
            stopAfterSyscall = false;
            if (registersAfterSyscall != null) {
                CpuRegisters.write(cpu, registersAfterSyscall);
                registersAfterSyscall = null;
            }
            adoptNewThreads();
            Kernel.VforkChild child = kernel.takeVforkChild();
            if (child != null) runVforkChild(child);
            Kernel.ForkChild forked = kernel.takeForkChild();
            if (forked != null) startFork(forked);
            if (pauseRequested) {
                pauseRequested = false;
                return true;
            }
            Task next = kernel.scheduler().next(current);
            if (next == null) break;
            switchTo(current, next);
        }
        return false;
    }

    /**
     * Runs a vfork child on this engine, in the parent's memory and from its registers, until it execs or exits;
     * the parent process waits meanwhile (Linux stops only the calling thread, but a vfork child only prepares
     * an exec). Then the parent's registers come back with the clone's result, and an emulated image the child
     * exec'd starts on a thread of its own.
     */
    private void runVforkChild(Kernel.VforkChild child) {
        Context parentRegisters = cpu.newContext();
        parentRegisters.save();
        Kernel parentKernel = kernel;
        Task parentTask = current;
        kernel = child.kernel();
        current = kernel.scheduler().next(null);
        cpu.setReg(X86.RAX, 0);
        if (child.stack() != 0) cpu.setReg(X86.RSP, child.stack());
        try {
            while (runUntilPause()) {
                // breakpoints pause the parent only: the child runs on to its exec or exit
            }
        } catch (GuestCrash e) {
            System.err.println("goemu: " + e.getMessage());
            kernel.killedByFault(e.signal());
        } finally {
            kernel = parentKernel;
            current = parentTask;
            parentRegisters.restore();
            parentRegisters.close();
        }
        cpu.setReg(X86.RAX, parentKernel.vforkDone(child));
        if (child.kernel().successor() instanceof Emulator image) startProcess(image);
    }

    /**
     * Starts a fork child on a CPU and thread of its own: a copy of this address space, the calling thread's
     * registers as they are after the clone (RAX 0), and no other thread. If the host has no memory for the copy,
     * the caller's fork fails with ENOMEM instead.
     */
    private void startFork(Kernel.ForkChild f) {
        Unicorn childCpu = Unicorn.openX86_64();
        AddressSpace copy = memory.forkCopy(new UnicornMapper(childCpu));
        if (copy == null) {
            childCpu.close();
            cpu.setReg(X86.RAX, kernel.forkFailed(f));
            return;
        }
        Emulator child = new Emulator(options, elf, childCpu, copy, image, f.start());
        child.kernel.createForkedTask(f);
        CpuRegisters.write(childCpu, CpuRegisters.read(cpu));
        childCpu.setReg(X86.FS_BASE, f.setTls() ? f.tls() : cpu.reg(X86.FS_BASE));
        childCpu.setReg(X86.GS_BASE, cpu.reg(X86.GS_BASE));
        childCpu.setReg(X86.RAX, 0);
        if (f.stack() != 0) childCpu.setReg(X86.RSP, f.stack());
        startProcess(child);
    }

    /** A CPU fault becomes the signal Linux would send; without a guest handler it ends the run. */
    private void handleFault() {
        Fault f = fault;
        fault = null;
        if (!kernel.fault(current, f.signal(), f.code(), f.address(), f.trapno())) {
            throw new GuestCrash(f, cpu.reg(X86.RIP), current.tid, elf.symbols());
        }
    }

    /** Clone children start from their parent's registers as they are right after the clone syscall. */
    private void adoptNewThreads() {
        for (Task t; (t = kernel.takeNewThread()) != null; ) {
            Context c = cpu.newContext();
            c.save();
            t.setCpuContext(c);
        }
    }

    /** Each thread keeps one Context for its life, so a switch is one save and one restore, with no lookup or allocation. */
    private void switchTo(Task from, Task to) {
        if (from != to) {
            Context fromContext = (Context) from.cpuContext();
            if (from.state() != Task.State.EXITED) {
                if (fromContext == null) {
                    fromContext = cpu.newContext();
                    from.setCpuContext(fromContext);
                }
                fromContext.save();
            } else if (fromContext != null) {
                fromContext.close();
                from.setCpuContext(null);
            }
            Context saved = (Context) to.cpuContext();
            if (saved != null) saved.restore();
            Task.CloneStart start = to.takeCloneStart();
            if (start != null) {
                cpu.setReg(X86.RAX, 0);
                if (start.stack() != 0) cpu.setReg(X86.RSP, start.stack());
                if (start.setTls()) cpu.setReg(X86.FS_BASE, start.tls());
            }
        }
        current = to;
        if (to.takeResult(resultSlot)) cpu.setReg(X86.RAX, resultSlot[0]);
    }

    private void onSyscall() {
        RegisterBatch in = syscallRegs, out = syscallResult;
        in.read();
        long nr = in.get(0);
        inSyscall = true;
        long r;
        try {
            r = kernel.syscall(current, nr, in.get(1), in.get(2), in.get(3), in.get(4), in.get(5), in.get(6));
        } finally {
            inSyscall = false;
        }
        out.set(0, r != Kernel.BLOCKED ? r : nr); // a blocked call's result is set when its thread next runs
        // SYSCALL leaves the return address in RCX and the flags in R11; programs may rely on neither, but Linux does it.
        out.set(1, in.get(7) + 2);
        out.set(2, in.get(8));
        out.write();
        if (stopAfterSyscall || registersAfterSyscall != null) cpu.stop();
    }

    /** The kernel's view of the CPU: always the calling (current) thread's registers. */
    private final class CpuMachine implements Machine {
        @Override public long fsBase() { return cpu.reg(X86.FS_BASE); }
        @Override public void setFsBase(long value) { cpu.setReg(X86.FS_BASE, value); }
        @Override public long gsBase() { return cpu.reg(X86.GS_BASE); }
        @Override public void setGsBase(long value) { cpu.setReg(X86.GS_BASE, value); }
        @Override public void stopAfterSyscall() { stopAfterSyscall = true; }
        @Override public Registers registers() { return CpuRegisters.read(cpu); }
        @Override public Clock clock() { return clock; }

        @Override
        public void setRegisters(Registers registers) {
            // Inside the SYSCALL hook Unicorn still adds 2 to RIP afterwards, so a new RIP waits for the stop.
            if (inSyscall) registersAfterSyscall = registers;
            else CpuRegisters.write(cpu, registers);
        }
    }

    // ---------------------------------------------------------------- Debuggee

    @Override
    public int currentTid() {
        return current != null ? current.tid : kernel.scheduler().tasks().iterator().next().tid;
    }

    @Override
    public Registers registers() {
        return CpuRegisters.read(cpu);
    }

    @Override
    public long register(int index) {
        return CpuRegisters.read(cpu, index);
    }

    @Override
    public long fsBase() {
        return cpu.reg(X86.FS_BASE);
    }

    @Override
    public List<ThreadView> threads() {
        List<ThreadView> out = new ArrayList<>();
        int cur = currentTid();
        for (Task t : kernel.scheduler().tasks()) {
            if (t.state() == Task.State.EXITED) continue;
            Context c = t.tid == cur ? null : (Context) t.cpuContext();
            if (t.tid == cur || c == null) {
                out.add(new ThreadView(t.tid, t.name(), t.state().name().toLowerCase(), cpu.reg(X86.RIP), cpu.reg(X86.RSP),
                        cpu.reg(X86.FS_BASE), cpu.reg(X86.R14), t.tid == cur));
            } else {
                Task.CloneStart start = t.cloneStart();
                long sp = start != null && start.stack() != 0 ? start.stack() : c.reg(X86.RSP);
                long fs = start != null && start.setTls() ? start.tls() : c.reg(X86.FS_BASE);
                out.add(new ThreadView(t.tid, t.name(), t.state().name().toLowerCase(), c.reg(X86.RIP), sp, fs, c.reg(X86.R14), false));
            }
        }
        out.sort(Comparator.comparingInt(ThreadView::tid));
        return out;
    }

    @Override
    public byte[] read(long address, int length) {
        return memory.peek(address, length);
    }

    @Override
    public long monotonicNanos() {
        return clock.monotonic();
    }

    @Override
    public Registration breakpoint(long pc, Handler handler) {
        BreakpointSite site = sites.computeIfAbsent(pc, BreakpointSite::new);
        site.handlers.add(handler);
        return () -> {
            site.handlers.remove(handler);
            if (site.handlers.isEmpty() && sites.remove(pc) == site) site.hook.close();
        };
    }

    @Override
    public Registration blocks(long begin, long end, Handler handler) {
        Hook hook = cpu.onBlock(begin, end - 1, (address, size) -> {
            if (handler.hit(address)) pause();
        });
        return hook::close;
    }

    @Override
    public Registration every(long periodNanos, Runnable action) {
        Periodic p = new Periodic(periodNanos, action, clock.monotonic());
        periodics.add(p);
        armAlarm();
        return () -> {
            periodics.remove(p);
            armAlarm();
        };
    }

    /** The scheduler runs the earliest periodic action when due, between slices or while every thread sleeps. */
    private void armAlarm() {
        if (periodics.isEmpty()) {
            kernel.scheduler().disarm(periodicsAlarm);
            return;
        }
        long earliest = periodics.stream().mapToLong(p -> p.due).min().getAsLong();
        kernel.scheduler().arm(periodicsAlarm, earliest);
    }

    @Override
    public Stop resume() {
        return runGuarded();
    }

    @Override
    public Stop stepInstruction() {
        int tid = current.tid;
        steppingTid = tid;
        int[] seen = {0};
        Hook step = cpu.onCode(1, 0, (address, size) -> {
            // The first instruction is the one being stepped; other threads may run meanwhile (time slices).
            if (current.tid == tid && ++seen[0] > 1) pause();
        });
        try {
            return runGuarded();
        } finally {
            steppingTid = -1;
            step.close();
            cpu.flushCode(); // translated blocks still call the removed hook until retranslated
        }
    }

    /** Stops the CPU before the current instruction; the run loop then returns to the tool. */
    private void pause() {
        pauseRequested = true;
        long pc = cpu.reg(X86.RIP);
        if (sites.containsKey(pc)) pausedAt.put(current.tid, pc);
        cpu.stop();
    }

    /** A thread about to run from where it paused at a breakpoint site executes that instruction, not the hook. */
    private void passBreakpointOnResume(Task task) {
        Long at = pausedAt.remove(task.tid);
        if (at != null && at == cpu.reg(X86.RIP)) {
            skipTid = task.tid;
            skipPc = at;
        }
    }

    private Stop runGuarded() {
        try {
            return runUntilPause() ? new Stop.Paused(cpu.reg(X86.RIP), current.tid) : new Stop.Exited(kernel.exitStatus());
        } catch (GuestCrash e) {
            return new Stop.Crashed(e.getMessage(), e.exitStatus());
        }
    }

    private void runDuePeriodics() {
        long now = clock.monotonic();
        for (Periodic p : List.copyOf(periodics)) {
            if (now < p.due) continue;
            p.action.run();
            p.due = Math.max(p.due + p.period, now + 1); // after now: a due timer runs once per decision
        }
        armAlarm();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        cpu.close(); // frees the threads' contexts too
    }
}
