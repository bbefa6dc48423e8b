package dev.goemu.hooks;

import dev.goemu.syscalls.Registers;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Prints the Go runtime's start-up chain as the guest runs it: each milestone function the first time a thread
 * enters it, with its address, source position and thread, and the runtime state at the moments that matter (TLS
 * and g0/m0 after rt0_go's setup, the Ps after procresize, the goroutine newproc made). A block hook over the text
 * sees every function entry; it exists only while this tracer runs.
 */
public final class StartupTracer {
    /** Milestones in the order the runtime reaches them, with their nesting for the printout. */
    private static final Map<String, Integer> MILESTONES = new LinkedHashMap<>();

    static {
        String[][] chain = {
                {"_rt0_amd64_linux", "0"}, {"_rt0_amd64", "0"}, {"runtime.rt0_go", "0"},
                {"runtime.check", "1"}, {"runtime.args", "1"}, {"runtime.osinit", "1"}, {"runtime.schedinit", "1"},
                {"runtime.stackinit", "2"}, {"runtime.mallocinit", "2"}, {"runtime.mcommoninit", "2"},
                {"runtime.gcinit", "2"}, {"runtime.procresize", "2"}, {"runtime.newproc", "1"},
                {"runtime.mstart", "1"}, {"runtime.schedule", "2"}, {"runtime.execute", "3"}, {"runtime.main", "0"},
                {"runtime.newm", "1"}, {"runtime.newosproc", "2"}, {"main.main", "0"}};
        for (String[] m : chain) MILESTONES.put(m[0], Integer.parseInt(m[1]));
    }

    /** Package initializers: "pkg.init" and the numbered "pkg.init.0" that each init() func becomes. */
    private static final Pattern INIT_FUNC = Pattern.compile(".*\\.init(\\.\\d+)?");

    public record Options(String until, int depth) {}

    private final Debuggee guest;
    private final GoSymbols symbols;
    /** The runtime's layout, or null: then the notes on runtime state are left out (said once). */
    private final RuntimeLayout layout;
    private final RuntimeReader reader;
    private final Options options;
    private final PrintStream out;
    private final Map<Long, String> milestoneAt = new HashMap<>();
    private final Set<String> seen = new HashSet<>();
    /** Return addresses to watch, per thread: what to print once the watched call returns there. */
    private final Map<Long, Consumer<Integer>> onReturn = new HashMap<>();
    private int printed;
    private String lastLine = "";
    private int repeats;
    private final long startNanos;

    public StartupTracer(Debuggee guest, GoSymbols symbols, Optional<RuntimeLayout> layout, Options options, PrintStream out) {
        this.guest = guest;
        this.symbols = symbols;
        this.layout = layout.orElse(null);
        this.reader = layout.map(l -> new RuntimeReader(guest, l)).orElse(null);
        this.options = options;
        this.out = out;
        for (String name : MILESTONES.keySet()) symbols.lookup(name).ifPresent(f -> milestoneAt.put(f.entry(), name));
        this.startNanos = guest.monotonicNanos();
    }

    /**
     * Runs the guest until {@code options.until()} is entered, which leaves it paused there ({@code Paused}), or
     * until it ends first.
     */
    public Debuggee.Stop run() {
        GoFunc until = symbols.lookup(options.until())
                .orElseThrow(() -> new IllegalArgumentException("no function " + options.until() + " in this binary"));
        List<GoFunc> all = symbols.functions();
        long textStart = all.getFirst().entry(), textEnd = all.getLast().end();
        out.printf("%-4s %-7s %-18s %-40s %s%n", "#", "thread", "address", "function", "source");
        try (Debuggee.Registration hook = guest.blocks(textStart, textEnd, pc -> onBlock(pc, until.entry()))) {
            Debuggee.Stop stop = guest.resume();
            flushRepeats();
            return stop;
        }
    }

    private boolean onBlock(long pc, long untilPc) {
        Consumer<Integer> returned = onReturn.remove(pc);
        if (returned != null) returned.accept(guest.currentTid());
        String milestone = milestoneAt.get(pc);
        if (milestone != null && seen.add(milestone)) {
            print(pc, milestone, MILESTONES.get(milestone));
            describe(milestone, pc);
        } else if (milestone == null) {
            traceOther(pc);
        }
        return pc == untilPc;
    }

    /** Package init functions always; other function entries only within --depth calls of a milestone. */
    private void traceOther(long pc) {
        Optional<GoFunc> f = symbols.function(pc);
        if (f.isEmpty() || f.get().entry() != pc) return;
        String name = f.get().name();
        if (MILESTONES.containsKey(name)) return; // an ABI0 wrapper of a milestone: same name, no news
        if (INIT_FUNC.matcher(name).matches() && !name.startsWith("runtime.")) {
            if (seen.add(name)) print(pc, name + "  (package init)", 1);
            return;
        }
        if (options.depth() <= 0) return;
        List<GoStack.Frame> frames = GoStack.unwind(symbols, guest, pc, guest.register(Registers.RSP), options.depth() + 1);
        for (int d = 1; d < frames.size(); d++) {
            Integer level = MILESTONES.get(frames.get(d).function());
            if (level != null && !frames.get(d).inlined()) {
                print(pc, name, level + d);
                return;
            }
        }
    }

    private void print(long pc, String name, int level) {
        String line = name + "/" + level;
        if (line.equals(lastLine)) {
            repeats++;
            return;
        }
        flushRepeats();
        lastLine = line;
        printed++;
        String where = symbols.line(pc).map(StartupTracer::shortPath).orElse("");
        out.printf("%-4d %-7d 0x%-16x %-40s %s%n", printed, guest.currentTid(), pc, "  ".repeat(level) + name, where);
    }

    /** The state worth seeing at some milestones, read from the guest as it is at that function's entry. */
    private void describe(String milestone, long pc) {
        long returnAddress = guest.readLong(guest.register(Registers.RSP));
        if (layout != null) {
            switch (milestone) {
                case "runtime.check" -> describeTls();
                case "runtime.procresize" -> onReturn.put(returnAddress, tid -> describePs());
                case "runtime.newproc" -> {
                    long entry = guest.readLong(guest.register(Registers.RAX)); // newproc(fn *funcval): fn.fn is the entry
                    onReturn.put(returnAddress, tid -> describeNewGoroutine(entry));
                }
                case "runtime.main", "main.main" -> describeCurrentG();
                default -> { }
            }
        }
        if (milestone.equals("runtime.newm")) {
            // newm(fn func(), pp *p, id int64): the M's first function; runtime.main's first newm is sysmon's.
            long fn = guest.register(Registers.RAX);
            note("newm for " + (fn == 0 ? "an M that will run the scheduler" : functionName(guest.readLong(fn))));
        }
        if (milestone.equals("runtime.newosproc")) {
            Set<Integer> before = new HashSet<>();
            guest.threads().forEach(t -> before.add(t.tid()));
            onReturn.put(returnAddress, tid -> guest.threads().stream().filter(t -> !before.contains(t.tid()))
                    .forEach(t -> note("clone created thread " + t.tid())));
        }
        if (milestone.equals(options.until())) {
            note(String.format("reached %s after %.1f ms", milestone, (guest.monotonicNanos() - startNanos) / 1e6));
        }
    }

    /** After rt0_go's settls: FS points just past the TLS slot that holds g, and g0 and m0 point at each other. */
    private void describeTls() {
        long fs = guest.fsBase();
        long g = guest.readLong(fs - 8);
        note(String.format("arch_prctl(ARCH_SET_FS) set FS base 0x%x; fs:-8 holds g = 0x%x%s", fs, g, named(g, "runtime.g0")));
        long m = field(g, "runtime.g", "m");
        long mG0 = field(m, "runtime.m", "g0");
        note(String.format("g0.m = 0x%x%s; m0.g0 = 0x%x%s", m, named(m, "runtime.m0"), mG0, named(mG0, "runtime.g0")));
        long lo = field(g, "runtime.g", "stack.lo"), hi = field(g, "runtime.g", "stack.hi");
        note(String.format("g0 stack [0x%x, 0x%x): %d KiB of the thread's stack", lo, hi, (hi - lo) / 1024));
    }

    private void describePs() {
        long gomaxprocs = global("runtime.gomaxprocs", 4);
        long allpLen = layout.global("runtime.allp").stream().map(a -> guest.readLong(a + 8)).findFirst().orElse(-1);
        note(String.format("procresize done: gomaxprocs = %d, len(allp) = %d", gomaxprocs, allpLen));
    }

    /** newproc put the new goroutine in its P's runnext. */
    private void describeNewGoroutine(long entryPc) {
        String entry = functionName(entryPc);
        long g = guest.currentG();
        long p = field(field(g, "runtime.g", "m"), "runtime.m", "p");
        long newg = field(p, "runtime.p", "runnext");
        note(String.format("new goroutine %d (g 0x%x) will run %s; it is P%d's runnext", field(newg, "runtime.g", "goid"),
                newg, entry, field(p, "runtime.p", "id")));
    }

    private void describeCurrentG() {
        long g = guest.currentG();
        long m = field(g, "runtime.g", "m");
        long p = field(m, "runtime.m", "p");
        note(String.format("running goroutine %d (g 0x%x) on M%d (thread %d), P%s", field(g, "runtime.g", "goid"), g,
                field(m, "runtime.m", "id"), field(m, "runtime.m", "procid"), p == 0 ? "none" : field(p, "runtime.p", "id")));
    }

    private String functionName(long pc) {
        return symbols.function(pc).map(GoFunc::name).orElse(String.format("0x%x", pc));
    }

    private long field(long base, String type, String path) {
        return reader.number(base, type, path);
    }

    private long global(String name, int size) {
        return layout.global(name).stream().map(a -> guest.readUnsigned(a, size)).findFirst().orElse(-1);
    }

    /** " = &runtime.g0" if {@code address} is that global's. */
    private String named(long address, String global) {
        return layout.global(global).stream().anyMatch(a -> a == address) ? " = &" + global : "";
    }

    /** Consecutive calls of the same function at the same level print once, with a count. */
    private void flushRepeats() {
        if (repeats == 0) return;
        int n = repeats + 1;
        repeats = 0;
        note("called " + n + " times in a row");
    }

    private void note(String text) {
        flushRepeats();
        lastLine = "";
        out.printf("%-4s %-7s %-18s   %s%n", "", "", "", "· " + text);
    }

    /** Go's source paths are absolute in the build's GOROOT; from "src/" on they read the same everywhere. */
    static String shortPath(SourceLine line) {
        String file = line.file();
        int src = file.lastIndexOf("/src/");
        return (src >= 0 ? file.substring(src + 5) : file) + ":" + line.line();
    }
}
