package dev.goemu.hooks;

import dev.goemu.hooks.disasm.Disassembler;
import dev.goemu.hooks.disasm.Instruction;
import dev.goemu.syscalls.GuestFault;
import dev.goemu.syscalls.Registers;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows every goroutine through its life with breakpoints at the runtime functions its status changes go
 * through, and passes each change to a {@link GoroutineEvent.Sink}. Where (read from the runtime sources of 1.19,
 * 1.21, 1.26 and 1.27):
 * <ul>
 *   <li>{@code casgstatus(gp, oldval, newval)}: almost every change (gp, oldval, newval in RAX, EBX, ECX under the
 *       register ABI of Go 1.17+), including run, park, ready, syscalls and exit;</li>
 *   <li>{@code casGToPreemptScan} and {@code casGFromPreempted}: a goroutine stopped by a preemption request goes
 *       running → preempted → waiting without casgstatus;</li>
 *   <li>inline compare-and-swaps of {@code g.atomicstatus}: from Go 1.26 {@code reentersyscall} and
 *       {@code exitsyscall} switch running ↔ syscall themselves and call casgstatus only if that fails, and
 *       {@code coroswitch_m} (iter.Pull) swaps two goroutines. Found by disassembling those functions for a
 *       {@code lock cmpxchg} on {@code [reg + offset of atomicstatus]}; the breakpoint is on the next instruction,
 *       where ZF says whether it succeeded and the base register still holds the g;</li>
 *   <li>creations at every {@code ret} of {@code newproc1}, which returns the new g in RAX with its goid set (1.19
 *       sets the goid only after casgstatus(_Gdead → _Grunnable), so that change is not used), with the creator
 *       taken at newproc1's entry ({@code callergp} in RBX).</li>
 * </ul>
 * Status changes through {@code _Gcopystack} (a stack being moved) are left out: the goroutine is back in its
 * previous status right after. The breakpoints exist only while the tracer is attached.
 */
public final class GoroutineTracer implements AutoCloseable {
    private static final String G = "runtime.g", M = "runtime.m", P = "runtime.p";
    /** {@code lock cmpxchg dword ptr [base + disp], reg} as Capstone prints it. */
    private static final Pattern STATUS_CAS = Pattern.compile("dword ptr \\[(\\w+) \\+ (0x[0-9a-f]+|\\d+)], \\w+");
    private static final long ZF = 1 << 6;
    /** Functions that may change g.atomicstatus with their own compare-and-swap (Go 1.26 and later). */
    private static final List<String> INLINE_STATUS_WRITERS = List.of("runtime.reentersyscall", "runtime.exitsyscall",
            "runtime.coroswitch_m");

    private final Debuggee guest;
    private final RuntimeReader reader;
    private final GoSymbols symbols;
    private final GoroutineEvent.Sink sink;
    private final long waitReasonStrings;
    private final List<Debuggee.Registration> hooks = new ArrayList<>();
    /** Per thread, the goid of the goroutine whose newproc1 call is under way. */
    private final Map<Integer, Long> creators = new HashMap<>();
    /** The last status reported per g (by address: a g is reused by later goroutines). */
    private final Map<Long, Integer> statuses = new HashMap<>();
    private long events;
    private long unreadable;
    private IOException writeError;

    private GoroutineTracer(Debuggee guest, RuntimeLayout layout, GoSymbols symbols, GoroutineEvent.Sink sink)
            throws LayoutUnavailableException {
        this.guest = guest;
        this.reader = new RuntimeReader(guest, layout);
        this.symbols = symbols;
        this.sink = sink;
        this.waitReasonStrings = layout.requireGlobal("runtime.waitReasonStrings");
        RuntimeReader.requireFields(layout, G, "goid", "atomicstatus", "waitreason", "startpc", "m");
        RuntimeReader.requireFields(layout, M, "id", "p");
        RuntimeReader.requireFields(layout, P, "id");
    }

    /**
     * Sets the breakpoints; events flow to {@code sink} as the guest runs.
     *
     * @throws LayoutUnavailableException if this runtime lacks what the tracer reads (its layout, casgstatus, newproc1)
     * @throws dev.goemu.hooks.disasm.DisassemblerUnavailableException if Capstone cannot be loaded
     */
    public static GoroutineTracer attach(Debuggee guest, GoSymbols symbols, RuntimeLayout layout, GoroutineEvent.Sink sink)
            throws LayoutUnavailableException {
        GoroutineTracer t = new GoroutineTracer(guest, layout, symbols, sink);
        GoFunc casgstatus = t.require("runtime.casgstatus");
        GoFunc newproc1 = t.require("runtime.newproc1");
        long statusOffset = layout.offset(G, "atomicstatus");
        try (Disassembler disassembler = Disassembler.openX86_64()) {
            t.hook(casgstatus.entry(), pc -> t.onStatusCall(-1));
            symbols.lookup("runtime.casGToPreemptScan")
                    .ifPresent(f -> t.hook(f.entry(), pc -> t.onStatusCall(GoStatus.PREEMPTED)));
            symbols.lookup("runtime.casGFromPreempted")
                    .ifPresent(f -> t.hook(f.entry(), pc -> t.onStatusCall(GoStatus.WAITING)));
            t.hook(newproc1.entry(), pc -> t.onNewproc1());
            int returns = 0;
            for (Instruction insn : t.code(disassembler, newproc1)) {
                if (!insn.mnemonic().equals("ret")) continue;
                t.hook(insn.address(), pc -> t.onNewproc1Return());
                returns++;
            }
            if (returns == 0) throw new LayoutUnavailableException("runtime.newproc1 has no ret instruction to watch");
            for (String name : INLINE_STATUS_WRITERS) {
                Optional<GoFunc> f = symbols.lookup(name);
                if (f.isPresent()) t.hookInlineStatusCas(disassembler, f.get(), statusOffset);
            }
        } catch (RuntimeException | LayoutUnavailableException e) {
            t.removeHooks(); // the sink stays the caller's to close
            throw e;
        }
        return t;
    }

    /** Events passed on so far. */
    public long events() {
        return events;
    }

    /** Events dropped because a g could not be read (a pointer the tracer misread). */
    public long unreadable() {
        return unreadable;
    }

    /** Removes the breakpoints and finishes the sink's output; throws the first write error, if writing failed. */
    @Override
    public void close() throws IOException {
        removeHooks();
        try {
            if (writeError == null) sink.finish(guest.monotonicNanos());
        } finally {
            sink.close();
        }
        if (writeError != null) throw writeError;
    }

    private void removeHooks() {
        hooks.forEach(Debuggee.Registration::close);
        hooks.clear();
    }

    private GoFunc require(String name) throws LayoutUnavailableException {
        return symbols.lookup(name).orElseThrow(() -> new LayoutUnavailableException(name + " is not in this binary"));
    }

    private void hook(long pc, Debuggee.Handler handler) {
        hooks.add(guest.breakpoint(pc, handler));
    }

    private List<Instruction> code(Disassembler disassembler, GoFunc f) {
        return disassembler.disassemble(guest.read(f.entry(), (int) (f.end() - f.entry())), f.entry(), Integer.MAX_VALUE);
    }

    private void hookInlineStatusCas(Disassembler disassembler, GoFunc f, long statusOffset) {
        for (Instruction insn : code(disassembler, f)) {
            if (!insn.mnemonic().equals("lock cmpxchg")) continue;
            Matcher m = STATUS_CAS.matcher(insn.operands());
            if (!m.matches() || Registers.index(m.group(1)) < 0) continue;
            String disp = m.group(2);
            long offset = disp.startsWith("0x") ? Long.parseLong(disp.substring(2), 16) : Long.parseLong(disp);
            if (offset != statusOffset) continue;
            int base = Registers.index(m.group(1));
            hook(insn.next(), pc -> onInlineStatusCas(base));
        }
    }

    // ---- handlers: the guest is stopped before the hooked instruction; they never pause it -------------------

    /** At the entry of casgstatus (newStatus -1: the third argument) or of a preemption transition (newStatus given). */
    private boolean onStatusCall(int newStatus) {
        long gp = guest.register(Registers.RAX);
        int from = (int) guest.register(Registers.RBX) & ~GoStatus.SCAN;
        int to = (newStatus >= 0 ? newStatus : (int) guest.register(Registers.RCX)) & ~GoStatus.SCAN;
        // From idle or dead is a g being made (newproc1 reports it once it has its goid); copystack is transient.
        if (from == GoStatus.IDLE || from == GoStatus.DEAD || from == GoStatus.COPYSTACK || to == GoStatus.COPYSTACK) {
            return false;
        }
        // casGFromPreempted sets the wait reason only after its entry; it is always "preempted".
        report(gp, from, to, newStatus == GoStatus.WAITING ? Optional.of("preempted") : Optional.empty());
        return false;
    }

    /** After a {@code lock cmpxchg} on g.atomicstatus: ZF set means it stored; RAX still holds the old status. */
    private boolean onInlineStatusCas(int baseRegister) {
        if ((guest.register(Registers.EFLAGS) & ZF) == 0) return false;
        long gp = guest.register(baseRegister);
        long old = guest.register(Registers.RAX);
        guarded(() -> {
            int to = (int) reader.number(gp, G, "atomicstatus") & ~GoStatus.SCAN;
            Integer known = statuses.get(gp);
            if (known == null || known != to) report(gp, (int) old & ~GoStatus.SCAN, to, Optional.empty());
        });
        return false;
    }

    private boolean onNewproc1() {
        long callergp = guest.register(Registers.RBX);
        guarded(() -> creators.put(guest.currentTid(), callergp == 0 ? 0 : reader.number(callergp, G, "goid")));
        return false;
    }

    private boolean onNewproc1Return() {
        long newg = guest.register(Registers.RAX);
        Long parent = creators.remove(guest.currentTid());
        guarded(() -> {
            int status = (int) reader.number(newg, G, "atomicstatus") & ~GoStatus.SCAN;
            long startpc = reader.number(newg, G, "startpc");
            String entry = symbols.function(startpc).map(GoFunc::name).orElse(String.format("0x%x", startpc));
            long[] mp = currentMP();
            statuses.put(newg, status);
            emit(new GoroutineEvent.Created(guest.monotonicNanos(), reader.number(newg, G, "goid"),
                    parent == null ? 0 : parent, entry, status, status == GoStatus.WAITING ? waitReason(newg) : null,
                    mp[0], mp[1]));
        });
        return false;
    }

    private void report(long gp, int from, int to, Optional<String> reason) {
        guarded(() -> {
            long[] mp = currentMP();
            String why = to == GoStatus.WAITING ? reason.orElseGet(() -> waitReason(gp)) : null;
            statuses.put(gp, to);
            emit(new GoroutineEvent.StatusChanged(guest.monotonicNanos(), reader.number(gp, G, "goid"), from, to, why,
                    mp[0], mp[1]));
        });
    }

    /** The M of the thread that runs now (its g from the TLS slot at fs:-8, then g.m) and that M's P; -1 for none. */
    private long[] currentMP() {
        long g = guest.currentG();
        long m = g == 0 ? 0 : reader.number(g, G, "m");
        if (m == 0) return new long[] {-1, -1};
        long p = reader.number(m, M, "p");
        return new long[] {reader.number(m, M, "id"), p == 0 ? -1 : reader.number(p, P, "id")};
    }

    private String waitReason(long gp) {
        return reader.waitReason(waitReasonStrings, (int) reader.number(gp, G, "waitreason"));
    }

    private void emit(GoroutineEvent event) {
        if (writeError != null) return;
        try {
            sink.accept(event);
            events++;
        } catch (IOException e) {
            writeError = e;
        }
    }

    /** A handler must not throw (it runs inside the engine): a g that cannot be read drops its event. */
    private void guarded(Runnable read) {
        try {
            read.run();
        } catch (GuestFault e) {
            unreadable++;
        }
    }
}
