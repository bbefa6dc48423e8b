package dev.goemu.syscalls;

/** A guest thread as the kernel sees it (Linux's task_struct, the parts goemu needs). */
public final class Task {
    public enum State { RUNNABLE, BLOCKED, EXITED }

    public final int tid;
    State state = State.RUNNABLE;
    Wait wait;
    /** The one Wait this task reuses for every wait (see Wait.until). */
    final Wait waitSlot = new Wait();
    /** The syscall this task is blocked in, re-run when its fd becomes ready. */
    int blockedNr;
    final long[] blockedArgs = new long[6];
    /** A syscall result to put in RAX when the task next runs. */
    private long result;
    private boolean resultPending;
    boolean yielded;
    /** Where the scheduler keeps it, so that no decision searches: in the run queue; its futex bucket's FIFO
     *  neighbours; its index in the deadline heap and among the fd waiters (-1: not there). */
    boolean queued;
    Task futexPrev, futexNext;
    int fdIndex = -1;
    /** Ends a wait with a deadline (armed while blocked); made by the scheduler that runs the task. */
    Scheduler.Timer timeout;
    /** While the scheduler re-runs a blocked call (its fd became ready): the deadline it first blocked with. */
    long resumedDeadline = Wait.NO_DEADLINE;
    /** CPU time charged to this thread while the process has a CPU-time timer armed (TimerSyscalls). */
    long cpuNanos;
    /** The CPU layer's saved registers while the thread is off the CPU; opaque to the kernel. */
    private Object cpuContext;

    long signalMask;
    /** Signals sent to this thread and not yet delivered, bit (sig-1), and why each was sent. */
    long pendingSignals;
    final SignalFrame.Info[] pendingInfo = new SignalFrame.Info[SignalSyscalls.NSIG + 1];
    /** The syscall a signal interrupted (restarted or failed with EINTR when the handler is entered), or -1. */
    int interruptedNr = -1;
    long altStackSp, altStackSize;
    int altStackFlags = SignalSyscalls.SS_DISABLE;
    long clearChildTid;
    /** A host call running on a helper thread for this task (opening a FIFO), or null. */
    Offload.Pending offloaded;
    String name = "";

    /** Set on a new thread until the CPU layer has built its registers from the parent's. */
    private CloneStart cloneStart;

    /** How a clone child starts: the parent's registers at syscall return, with RAX=0 and these changes. */
    public record CloneStart(long stack, long tls, boolean setTls) {}

    public Task(int tid) {
        this.tid = tid;
    }

    public State state() { return state; }

    /** The thread's name (prctl PR_SET_NAME), empty if never set. */
    public String name() { return name; }

    void complete(long value) {
        result = value;
        resultPending = true;
    }

    /** The result owed to this task's RAX, once: the CPU layer calls this when it switches the task in. */
    public boolean takeResult(long[] out) {
        if (!resultPending) return false;
        resultPending = false;
        out[0] = result;
        return true;
    }

    void startAsClone(CloneStart start) { cloneStart = start; }

    /** The clone request, once, for the CPU layer to apply as this task first runs. */
    public CloneStart takeCloneStart() {
        CloneStart s = cloneStart;
        cloneStart = null;
        return s;
    }

    /** The clone request not yet applied, or null. */
    public CloneStart cloneStart() { return cloneStart; }

    public Object cpuContext() { return cpuContext; }

    public void setCpuContext(Object context) { cpuContext = context; }

    @Override
    public String toString() {
        return "task " + tid;
    }
}
