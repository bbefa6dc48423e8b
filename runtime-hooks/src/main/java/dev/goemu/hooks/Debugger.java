package dev.goemu.hooks;

import dev.goemu.hooks.disasm.Disassembler;
import dev.goemu.hooks.disasm.DisassemblerUnavailableException;
import dev.goemu.hooks.disasm.Instruction;
import dev.goemu.hooks.dwarf.DwarfField;
import dev.goemu.hooks.dwarf.DwarfType;
import dev.goemu.hooks.dwarf.DwarfVariable;
import dev.goemu.hooks.dwarf.GoDwarf;
import dev.goemu.loader.Symbol;
import dev.goemu.syscalls.GuestFault;
import dev.goemu.syscalls.Registers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * goemu's interactive stepper: gdb-like commands over a {@link Debuggee}, Go-aware (function names and source lines
 * from .gopclntab, stacks unwound with Go's frame tables, runtime globals printed with DWARF field names). Commands
 * come from a terminal or a script; a script's commands are echoed after the prompt so its transcript reads well.
 */
public final class Debugger {
    private static final String PROMPT = "(goemu) ";
    /** Steps this many instructions at most looking for the next source line (a loop without lines, say). */
    private static final int STEP_LIMIT = 1_000_000;
    private static final Pattern EXAMINE = Pattern.compile("x(?:/(\\d*)([bxgs]?))?");
    /** TERM [+|- NUMBER]: what break *ADDRESS, x and disas take. */
    private static final Pattern EXPRESSION = Pattern.compile("\\s*([^+\\-\\s]+)\\s*(?:([+-])\\s*(\\w+))?\\s*");
    private static final String[] GPR_ORDER = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
            "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags"};

    private final Debuggee guest;
    private final GoProgram program;
    private final GoSymbols symbols;
    private final PrintStream out;
    private final boolean echo;
    private final Map<Integer, Breakpoint> breakpoints = new LinkedHashMap<>();
    private int nextBreakpoint = 1;
    /** Set when the guest has ended: then only non-running commands work. */
    private Debuggee.Stop.Exited exited;
    private Disassembler disassembler;
    private String disassemblerProblem;

    private record Breakpoint(int number, long pc, String where, Debuggee.Registration registration) {}

    public Debugger(Debuggee guest, GoProgram program, PrintStream out, boolean echo) {
        this.guest = guest;
        this.program = program;
        this.symbols = program.symbols();
        this.out = out;
        this.echo = echo;
    }

    /** Reads and runs commands until quit or end of input; returns the guest's exit status, or 0 if it still ran. */
    public int run(BufferedReader in) throws IOException {
        out.println(String.format("goemu debug: %s stopped at its entry point, %s", program.elf().path(), whereNow(currentPc())));
        while (true) {
            out.print(PROMPT);
            String line = in.readLine();
            if (line == null) {
                out.println();
                break;
            }
            if (echo) out.println(line);
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            if (line.equals("quit") || line.equals("q")) break;
            try {
                execute(line);
            } catch (CommandException e) {
                out.println(e.getMessage());
            } catch (GuestFault e) {
                out.println("Cannot access memory: " + e.getMessage());
            }
            out.flush();
        }
        if (disassembler != null) disassembler.close();
        return exited != null ? exited.status() : 0;
    }

    /** A command that cannot be done as asked; the message is shown and the session goes on. */
    static final class CommandException extends RuntimeException {
        CommandException(String message) {
            super(message, null, false, false);
        }
    }

    void execute(String line) {
        String[] words = line.split("\\s+", 2);
        String cmd = words[0], arg = words.length > 1 ? words[1].strip() : "";
        Matcher examine = EXAMINE.matcher(cmd);
        switch (cmd) {
            case "break", "b" -> addBreakpoint(arg);
            case "delete", "d" -> delete(arg);
            case "continue", "c" -> report(guest().resume(), true);
            case "stepi", "si" -> repeat(arg, () -> guest().stepInstruction());
            case "nexti", "ni" -> repeat(arg, this::nextInstruction);
            case "step", "s" -> report(stepLine(false), false);
            case "next", "n" -> report(stepLine(true), false);
            case "finish" -> finish();
            case "regs" -> registers();
            case "disas", "disassemble" -> disassemble(arg);
            case "bt", "backtrace", "where" -> backtrace(arg);
            case "print", "p" -> print(arg);
            case "info", "i" -> info(arg);
            case "help", "h" -> help();
            default -> {
                if (examine.matches()) examine(examine.group(1), examine.group(2), arg);
                else throw new CommandException("Undefined command: \"" + cmd + "\". Try \"help\".");
            }
        }
    }

    // ---- running ----------------------------------------------------------------------------------------------

    /** The guest, if it still runs. */
    private Debuggee guest() {
        if (exited != null) throw new CommandException("The program is not being run (it exited with status " + exited.status() + ").");
        return guest;
    }

    private void repeat(String count, java.util.function.Supplier<Debuggee.Stop> step) {
        int n = count.isEmpty() ? 1 : parseCount(count);
        Debuggee.Stop stop = null;
        for (int i = 0; i < n; i++) {
            stop = step.get();
            if (!(stop instanceof Debuggee.Stop.Paused) || hitBreakpoint(stop)) break;
        }
        report(stop, false);
    }

    /** Over a call: run until the instruction after it, on this thread, with the stack back where it was. */
    private Debuggee.Stop nextInstruction() {
        long pc = currentPc();
        Instruction insn = disassembler().disassemble(guest.read(pc, 16), pc, 1).stream().findFirst()
                .orElseThrow(() -> new CommandException(String.format("Cannot decode the instruction at 0x%x", pc)));
        if (!insn.mnemonic().startsWith("call")) return guest().stepInstruction();
        return runTo(pc + insn.size(), sp());
    }

    /**
     * Resumes until this goroutine reaches {@code pc} with SP at {@code sp} (or a user breakpoint, or the end). The
     * goroutine, not the thread: preempted, it may go on on another M.
     */
    private Debuggee.Stop runTo(long pc, long sp) {
        long g = currentG();
        try (Debuggee.Registration temporary = guest.breakpoint(pc, at -> currentG() == g && sp() == sp)) {
            return guest().resume();
        }
    }

    /** The running g, from the runtime's TLS slot at fs:-8. */
    private long currentG() {
        try {
            return guest.currentG();
        } catch (GuestFault e) {
            return 0;
        }
    }

    /**
     * Runs to the next source line; {@code over} steps over calls (next) instead of into them (step). next also
     * steps over inlined calls: it follows the line of the function itself, where step follows the innermost one.
     */
    private Debuggee.Stop stepLine(boolean over) {
        long start = currentPc();
        Optional<GoFunc> function = symbols.function(start);
        Optional<SourceLine> line = lineFor(start, over);
        Debuggee.Stop stop = null;
        for (int i = 0; i < STEP_LIMIT; i++) {
            stop = over ? nextInstruction() : guest().stepInstruction();
            if (!(stop instanceof Debuggee.Stop.Paused p) || hitBreakpoint(stop)) return stop;
            Optional<GoFunc> now = symbols.function(p.pc());
            if (now.isEmpty()) continue; // no line information: keep going to Go code
            if (!now.equals(function) || !lineFor(p.pc(), over).equals(line)) return stop;
        }
        out.println("Gave up after " + STEP_LIMIT + " instructions without reaching another source line.");
        return stop;
    }

    private Optional<SourceLine> lineFor(long pc, boolean outermost) {
        if (!outermost) return symbols.line(pc);
        List<GoSymbols.Frame> frames = symbols.frames(pc);
        return frames.isEmpty() ? Optional.empty() : frames.getLast().line();
    }

    private void finish() {
        List<GoStack.Frame> frames = GoStack.unwind(symbols, guest(), currentPc(), sp(), 2);
        GoStack.Frame caller = frames.stream().filter(f -> !f.inlined()).skip(1).findFirst()
                .orElseThrow(() -> new CommandException("\"finish\" not meaningful in the outermost frame."));
        out.println("Run till exit from " + whereNow(currentPc()));
        Debuggee.Stop stop = runTo(caller.pc(), caller.sp());
        report(stop, true);
        if (stop instanceof Debuggee.Stop.Paused p && p.pc() == caller.pc()) {
            Registers r = guest.registers();
            out.printf("Returned: rax = 0x%x, rbx = 0x%x (Go's first two integer results)%n", r.get(Registers.RAX), r.get(Registers.RBX));
        }
    }

    private boolean hitBreakpoint(Debuggee.Stop stop) {
        return stop instanceof Debuggee.Stop.Paused p && breakpoints.values().stream().anyMatch(b -> b.pc() == p.pc());
    }

    /** Prints why the guest stopped, and where. */
    private void report(Debuggee.Stop stop, boolean announceBreakpoint) {
        switch (stop) {
            case Debuggee.Stop.Paused p -> {
                Optional<Breakpoint> b = breakpoints.values().stream().filter(x -> x.pc() == p.pc()).findFirst();
                if (b.isPresent() && (announceBreakpoint || hitBreakpoint(stop))) {
                    out.printf("%nBreakpoint %d, %s%n", b.get().number(), whereNow(p.pc()));
                } else {
                    out.println(whereNow(p.pc()));
                }
            }
            case Debuggee.Stop.Exited e -> {
                exited = e;
                out.println("[The program exited with status " + e.status() + "]");
            }
            case Debuggee.Stop.Crashed c -> {
                exited = new Debuggee.Stop.Exited(c.status());
                out.println("[The program crashed: " + c.message() + "]");
            }
        }
    }

    // ---- breakpoints ------------------------------------------------------------------------------------------

    private void addBreakpoint(String location) {
        if (location.isEmpty()) throw new CommandException("break wants a location: FUNCTION, *ADDRESS or FILE:LINE");
        for (long pc : resolveLocation(location)) {
            int number = nextBreakpoint++;
            Breakpoint b = new Breakpoint(number, pc, where(pc), guest().breakpoint(pc, at -> true));
            breakpoints.put(number, b);
            out.printf("Breakpoint %d at 0x%x: %s%n", number, pc, b.where());
        }
    }

    /** FUNCTION (its entry), *ADDRESS, or FILE:LINE (the first instruction of that line in each function with it). */
    private List<Long> resolveLocation(String location) {
        if (location.startsWith("*")) return List.of(evaluate(location.substring(1)));
        int colon = location.lastIndexOf(':');
        if (colon > 0 && location.substring(colon + 1).matches("\\d+")) {
            String file = location.substring(0, colon);
            int line = Integer.parseInt(location.substring(colon + 1));
            List<Long> pcs = new ArrayList<>();
            for (GoFunc f : symbols.functions()) {
                symbols.lineTable(f).stream()
                        .filter(r -> r.line().line() == line && (r.line().file().equals(file) || r.line().file().endsWith("/" + file)))
                        .findFirst().ifPresent(r -> pcs.add(r.start()));
            }
            if (pcs.isEmpty()) throw new CommandException("No code at " + location + ".");
            return pcs;
        }
        GoFunc f = symbols.lookup(location).orElseThrow(() -> new CommandException("Function \"" + location + "\" not defined."));
        return List.of(f.entry());
    }

    private void delete(String which) {
        List<Integer> numbers = new ArrayList<>();
        if (which.isEmpty()) numbers.addAll(breakpoints.keySet());
        else for (String w : which.split("\\s+")) numbers.add(parseCount(w));
        for (int n : numbers) {
            Breakpoint b = breakpoints.remove(n);
            if (b == null) throw new CommandException("No breakpoint number " + n + ".");
            b.registration().close();
        }
    }

    // ---- looking ----------------------------------------------------------------------------------------------

    private void registers() {
        Registers r = guest().registers();
        for (String name : GPR_ORDER) {
            long v = r.get(Registers.index(name));
            String note = name.equals("rip") ? "  " + symbolic(v) : "";
            out.printf("%-7s 0x%016x %20d%s%n", name, v, v, note);
        }
        long fs = guest.fsBase();
        out.printf("%-7s 0x%016x%n", "fs_base", fs);
        long tlsG = readOr(fs - 8, 0);
        out.printf("%-7s 0x%016x  (fs:-8, the runtime's TLS slot)%s%n", "g", tlsG, describeG(tlsG));
        long r14 = r.get(Registers.R14);
        if (r14 != tlsG) out.printf("%-7s 0x%016x  (R14: Go code keeps g there; assembly and g0 code need not)%n", "", r14);
    }

    /** " = goroutine N" or " = runtime.g0" when the layout tells. */
    private String describeG(long g) {
        if (g == 0 || program.layout().isEmpty()) return "";
        RuntimeLayout layout = program.layout().get();
        if (layout.global("runtime.g0").stream().anyMatch(a -> a == g)) return " = &runtime.g0";
        RuntimeReader r = new RuntimeReader(guest, layout);
        try {
            long goid = r.number(g, "runtime.g", "goid");
            long m = r.number(g, "runtime.g", "m");
            String mId = m == 0 ? "" : "M" + r.number(m, "runtime.m", "id");
            if (goid == 0) return " = a g0" + (m == 0 ? "" : " (" + mId + ")");
            return " = goroutine " + goid + (m == 0 ? "" : " on " + mId);
        } catch (GuestFault e) {
            return "";
        }
    }

    /** Every goroutine in runtime.allgs, as the scheduler's own detail trace lists them. */
    private void goroutines() {
        RuntimeLayout layout = program.layout().orElseThrow(() -> new CommandException(
                "No goroutine list: " + program.layoutProblem().orElse("the runtime's layout is unknown")));
        SchedulerSnapshot snapshot;
        try {
            snapshot = new SchedulerSnapshot.Reader(layout).read(guest(), true);
        } catch (LayoutUnavailableException e) {
            throw new CommandException("No goroutine list: " + e.getMessage());
        }
        for (SchedulerSnapshot.Goroutine g : snapshot.goroutines()) {
            // The runtime leaves the last wait reason in g.waitreason after the wait: it means something only now.
            boolean waiting = (g.status() & ~GoStatus.SCAN) == GoStatus.WAITING;
            String reason = waiting && !g.waitReason().isEmpty() ? ", " + g.waitReason() : "";
            String m = g.m().isPresent() ? " on M" + g.m().getAsLong() : "";
            out.printf("  goroutine %d [%s%s]%s%n", g.goid(), GoStatus.name(g.status()), reason, m);
        }
    }

    private void examine(String countText, String format, String expression) {
        if (expression.isEmpty()) throw new CommandException("x wants an address: x/N[bxgs] ADDRESS");
        int count = countText == null || countText.isEmpty() ? 1 : parseCount(countText);
        String f = format == null || format.isEmpty() ? "x" : format;
        long addr = evaluate(expression);
        switch (f) {
            case "s" -> {
                for (int i = 0; i < count; i++) {
                    String s = guest().readCString(addr, 256);
                    out.printf("0x%x:\t\"%s\"%n", addr, s);
                    addr += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
                }
            }
            case "b" -> dump(addr, count, 1, 8);
            case "g" -> dump(addr, count, 8, 2);
            default -> dump(addr, count, 4, 4);
        }
    }

    private void dump(long addr, int count, int size, int perLine) {
        byte[] bytes = guest().read(addr, count * size);
        for (int i = 0; i < count; i++) {
            if (i % perLine == 0) out.printf("%s0x%x%s:", i == 0 ? "" : "\n", addr + (long) i * size, symbolicSuffix(addr + (long) i * size));
            long v = 0;
            for (int k = size - 1; k >= 0; k--) v = v << 8 | (bytes[i * size + k] & 0xff);
            out.printf("\t0x%0" + (2 * size) + "x", v);
        }
        out.println();
    }

    private void disassemble(String args) {
        String[] a = args.isEmpty() ? new String[0] : args.split("\\s+");
        long pc = currentPc();
        long start = a.length > 0 ? evaluate(a[0]) : pc;
        int count = a.length > 1 ? parseCount(a[1]) : 10;
        byte[] code = guest().read(start, Math.min(15 * count, 4096));
        for (Instruction insn : disassembler().disassemble(code, start, count)) {
            String marker = insn.address() == pc ? "=> " : "   ";
            String note = insn.branchTarget().isPresent() ? "  <" + symbolic(insn.branchTarget().getAsLong()) + ">"
                    : insn.ripTarget().isPresent() ? "  # " + symbolic(insn.ripTarget().getAsLong()) : "";
            out.printf("%s0x%x <%s>:\t%-8s %s%s%n", marker, insn.address(), symbolic(insn.address()), insn.mnemonic(), insn.operands(), note);
        }
    }

    private void backtrace(String limit) {
        int max = limit.isEmpty() ? 64 : parseCount(limit);
        List<GoStack.Frame> frames = GoStack.unwind(symbols, guest(), currentPc(), sp(), max);
        for (int i = 0; i < frames.size(); i++) {
            GoStack.Frame f = frames.get(i);
            String at = f.line().map(StartupTracer::shortPath).orElse("?");
            if (f.inlined()) out.printf("#%-2d %-18s %s (inlined) at %s%n", i, "", f.function(), at);
            else out.printf("#%-2d 0x%016x in %s () at %s%n", i, f.pc(), f.function(), at);
        }
    }

    private void info(String what) {
        switch (what) {
            case "threads" -> {
                for (Guest.ThreadView t : guest().threads()) {
                    out.printf("%s %-7d %-9s %-16s %s%s%n", t.current() ? "*" : " ", t.tid(), t.state(),
                            t.name().isEmpty() ? "" : "\"" + t.name() + "\"", symbolic(t.pc()), describeG(readOr(t.fsBase() - 8, 0)));
                }
            }
            case "breakpoints", "break", "b" -> {
                if (breakpoints.isEmpty()) out.println("No breakpoints.");
                for (Breakpoint b : breakpoints.values()) out.printf("%-3d 0x%016x %s%n", b.number(), b.pc(), b.where());
            }
            case "registers", "reg" -> registers();
            case "goroutines" -> goroutines();
            case "frame" -> out.println(whereNow(currentPc()));
            default -> throw new CommandException("info threads | goroutines | breakpoints | registers | frame");
        }
    }

    /** print GLOBAL: a runtime (or any) global, with DWARF's field names. */
    private void print(String name) {
        if (name.isEmpty()) throw new CommandException("print wants a global variable, e.g. print runtime.sched");
        Optional<GoDwarf> dwarf = program.layout().flatMap(RuntimeLayout::dwarf);
        Optional<DwarfVariable> variable = dwarf.flatMap(d -> d.variable(name));
        if (variable.isEmpty()) {
            String why = dwarf.isEmpty() ? "the binary has no DWARF (built with -w?), so types are unknown" : "no such global in the DWARF";
            OptionalLong address = program.layout().flatMap(l -> l.global(name).stream().boxed().findFirst()).map(OptionalLong::of).orElse(OptionalLong.empty());
            throw new CommandException("Cannot print " + name + ": " + why
                    + (address.isPresent() ? String.format("; it is at 0x%x (try x/8g 0x%x)", address.getAsLong(), address.getAsLong()) : ""));
        }
        DwarfVariable v = variable.get();
        out.printf("%s = (%s) %s%n", name, v.type().name(), format(v.address(), v.type(), 0));
    }

    /** A value for print: structs with field names (two levels deep), pointers in hex, integers in decimal. */
    private String format(long addr, DwarfType type, int depth) {
        DwarfType t = type;
        while (t.kind() == DwarfType.Kind.TYPEDEF && t.element().isPresent()) t = t.element().get();
        return switch (t.kind()) {
            case STRUCT -> {
                if (t.name().equals("string")) {
                    long p = guest().readLong(addr), n = guest.readLong(addr + 8);
                    yield n == 0 ? "\"\"" : "\"" + new String(guest.read(p, (int) Math.min(n, 200)), java.nio.charset.StandardCharsets.UTF_8) + "\"";
                }
                // Padding, noCopy and other zero-size markers say nothing; atomic.Int32 and kin show their value.
                List<DwarfField> fields = t.fields().stream().filter(f -> !f.name().equals("_") && f.size() > 0).toList();
                if (fields.size() == 1 && fields.getFirst().name().equals("value")) {
                    yield format(addr + fields.getFirst().offset(), fields.getFirst().type(), depth);
                }
                if (depth >= 2) yield "{...}";
                List<String> parts = new ArrayList<>();
                for (DwarfField f : fields) parts.add(f.name() + " = " + format(addr + f.offset(), f.type(), depth + 1));
                String sep = depth == 0 ? ",\n  " : ", ";
                yield depth == 0 ? "{\n  " + String.join(sep, parts) + "\n}" : "{" + String.join(sep, parts) + "}";
            }
            case POINTER, FUNC -> String.format("0x%x", guest().readLong(addr));
            case ARRAY -> {
                DwarfType e = t.element().orElseThrow();
                long n = Math.min(t.count(), 8);
                List<String> parts = new ArrayList<>();
                for (int i = 0; i < n; i++) parts.add(format(addr + i * e.size(), e, depth + 1));
                yield "[" + String.join(", ", parts) + (t.count() > n ? ", ..." : "") + "]";
            }
            case BASE -> {
                long v = guest().readUnsigned(addr, (int) Math.min(t.size(), 8));
                if (t.name().equals("bool")) yield v != 0 ? "true" : "false";
                if (RuntimeReader.isSigned(t.name()) && t.size() < 8 && (v & (1L << (8 * t.size() - 1))) != 0) v -= 1L << (8 * t.size());
                yield t.name().startsWith("float") ? String.valueOf(t.size() == 4 ? Float.intBitsToFloat((int) v) : Double.longBitsToDouble(v)) : Long.toString(v);
            }
            default -> String.format("<%s at 0x%x>", t.name(), addr);
        };
    }

    private void help() {
        out.println("""
                break FUNCTION | *ADDRESS | FILE:LINE   set a breakpoint (b)        delete [N...]   remove breakpoints (d)
                continue (c)     run to the next breakpoint or the end
                stepi [N] (si)   one machine instruction   nexti [N] (ni)  over calls
                step (s)         to the next source line   next (n)        over calls      finish   out of this function
                regs             registers, FS base and the current g      x/N[bxgs] ADDRESS  memory (bytes, words, giants, strings)
                disas [ADDRESS] [N]   disassemble           bt [N]          Go backtrace, inlined calls included
                info threads | goroutines | breakpoints | registers     print GLOBAL  a global with DWARF field names (p)
                quit (q)
                ADDRESS: 0x..., a function or global name, $rsp / $rip / $g ... , optionally +/- an offset""");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private Disassembler disassembler() {
        if (disassembler == null && disassemblerProblem == null) {
            try {
                disassembler = Disassembler.openX86_64();
            } catch (DisassemblerUnavailableException e) {
                disassemblerProblem = e.getMessage();
            }
        }
        if (disassembler == null) throw new CommandException("No disassembler: " + disassemblerProblem);
        return disassembler;
    }

    /** An address expression: a number, $register, a function or global name, each with an optional +/- offset. */
    long evaluate(String expression) {
        Matcher m = EXPRESSION.matcher(expression);
        if (!m.matches()) throw new CommandException("Cannot evaluate \"" + expression + "\"");
        long base = term(m.group(1));
        if (m.group(2) == null) return base;
        long offset = parseNumber(m.group(3));
        return m.group(2).equals("+") ? base + offset : base - offset;
    }

    private long term(String t) {
        if (t.startsWith("$")) {
            String reg = t.substring(1);
            return switch (reg) {
                case "fs_base" -> guest().fsBase();
                case "g" -> guest().currentG();
                case "pc" -> currentPc();
                case "sp" -> sp();
                default -> {
                    int i = Registers.index(reg);
                    if (i < 0) throw new CommandException("No register " + t);
                    yield guest().register(i);
                }
            };
        }
        if (Character.isDigit(t.charAt(0))) return parseNumber(t);
        Optional<GoFunc> f = symbols.lookup(t);
        if (f.isPresent()) return f.get().entry();
        Optional<Symbol> s = program.elf().symbols().lookup(t);
        if (s.isPresent()) return s.get().value();
        OptionalLong g = program.layout().map(l -> l.global(t)).orElse(OptionalLong.empty());
        if (g.isPresent()) return g.getAsLong();
        throw new CommandException("No symbol \"" + t + "\" in this binary.");
    }

    private static long parseNumber(String s) {
        try {
            return s.startsWith("0x") || s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new CommandException("Not a number: " + s);
        }
    }

    private static int parseCount(String s) {
        long n = parseNumber(s);
        if (n < 1 || n > 1_000_000) throw new CommandException("A count must be between 1 and 1000000, not " + s);
        return (int) n;
    }

    private long currentPc() {
        return guest().register(Registers.RIP);
    }

    private long sp() {
        return guest.register(Registers.RSP);
    }

    private long readOr(long address, long otherwise) {
        try {
            return guest.readLong(address);
        } catch (GuestFault e) {
            return otherwise;
        }
    }

    /** "0x44a300 in runtime.schedinit () at runtime/proc.go:831". */
    private String where(long pc) {
        String function = symbols.function(pc).map(GoFunc::name).orElse("??");
        String line = symbols.line(pc).map(l -> " at " + StartupTracer.shortPath(l)).orElse("");
        return String.format("0x%x in %s ()%s", pc, function, line);
    }

    /** Where the current thread is, naming the thread: several run, and a stop may be on any of them. */
    private String whereNow(long pc) {
        return where(pc) + " [thread " + guest.currentTid() + "]";
    }

    /** "runtime.schedinit+12", or the hex address outside known code and data. */
    private String symbolic(long address) {
        Optional<GoFunc> f = symbols.function(address);
        if (f.isPresent()) return f.get().name() + (address == f.get().entry() ? "" : "+" + (address - f.get().entry()));
        // Sized data symbols only: a zero-size marker like runtime.etext says nothing about what follows it.
        Optional<Symbol> s = program.elf().symbols().containing(address).filter(x -> x.size() > 0);
        if (s.isPresent()) return s.get().name() + (address == s.get().value() ? "" : "+" + (address - s.get().value()));
        return String.format("0x%x", address);
    }

    private String symbolicSuffix(long address) {
        String s = symbolic(address);
        return s.startsWith("0x") ? "" : " <" + s + ">";
    }
}
