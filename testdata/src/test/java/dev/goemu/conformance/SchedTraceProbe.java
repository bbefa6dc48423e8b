package dev.goemu.conformance;

import dev.goemu.emulator.Emulator;
import dev.goemu.hooks.GoBuildInfo;
import dev.goemu.hooks.GoFunc;
import dev.goemu.hooks.GoProgram;
import dev.goemu.hooks.RuntimeLayout;
import dev.goemu.hooks.SchedTraceFormat;
import dev.goemu.hooks.SchedulerSnapshot;
import dev.goemu.hooks.disasm.Disassembler;
import dev.goemu.hooks.disasm.Instruction;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a Go binary under the emulator with {@code GODEBUG} set, stopping at every call of the runtime's own
 * {@code schedtrace}: at its entry it takes a {@link SchedulerSnapshot}, at its return another. For each call it
 * writes to OUT a block the test pairs with what the guest printed to stderr at that moment:
 * <pre>
 * call stable|changed M&lt;id of the M running schedtrace&gt;
 * SCHED 0ms: gomaxprocs=...          (the entry snapshot as schedtrace prints it)
 *   P0: ...
 * end
 * </pre>
 * "changed" means the two snapshots differ, so the guest printed a state in motion that no single snapshot equals.
 * Runs in its own JVM because the guest writes to the process's real stderr. Usage:
 * {@code SchedTraceProbe OUT CPUS GODEBUG BINARY}.
 */
public final class SchedTraceProbe {
    private SchedTraceProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int cpus = Integer.parseInt(args[1]);
        String godebug = args[2];
        Path binary = Path.of(args[3]);
        boolean detailed = godebug.contains("scheddetail=1");
        GoProgram program = GoProgram.open(binary);
        RuntimeLayout layout = program.layout()
                .orElseThrow(() -> new IllegalStateException(program.layoutProblem().orElseThrow()));
        SchedulerSnapshot.Reader reader = new SchedulerSnapshot.Reader(layout);
        SchedTraceFormat format = SchedTraceFormat.of(layout, program.buildInfo().map(GoBuildInfo::goVersion));
        GoFunc schedtrace = program.symbols().lookup("runtime.schedtrace").orElseThrow();

        List<String> env = new ArrayList<>();
        System.getenv().forEach((k, v) -> {
            if (!k.equals("GODEBUG")) env.add(k + "=" + v);
        });
        env.add("GODEBUG=" + godebug);
        int status;
        try (Emulator emulator = new Emulator(new Emulator.Options(binary, List.of(binary.toString()), env, cpus, null,
                Emulator.DEFAULT_TIME_SLICE_NANOS));
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8), true)) {
            List<List<String>> atEntry = new ArrayList<>(List.of(List.of()));
            long[] tracingM = {-1};
            emulator.breakpoint(schedtrace.entry(), pc -> {
                atEntry.set(0, format.lines(reader.read(emulator, detailed), 0, detailed));
                // The M running schedtrace: the current g from the TLS slot at fs:-8, then g.m.id.
                long g = emulator.readLong(emulator.fsBase() - 8);
                long m = emulator.readLong(g + layout.offset("runtime.g", "m"));
                tracingM[0] = emulator.readLong(m + layout.offset("runtime.m", "id"));
                return false;
            });
            for (long ret : returns(emulator, schedtrace)) {
                emulator.breakpoint(ret, pc -> {
                    boolean stable = atEntry.get(0).equals(format.lines(reader.read(emulator, detailed), 0, detailed));
                    w.println("call " + (stable ? "stable" : "changed") + " M" + tracingM[0]);
                    atEntry.get(0).forEach(w::println);
                    w.println("end");
                    return false;
                });
            }
            status = emulator.run();
        }
        System.exit(status);
    }

    private static List<Long> returns(Emulator emulator, GoFunc f) {
        try (Disassembler d = Disassembler.openX86_64()) {
            byte[] code = emulator.read(f.entry(), (int) (f.end() - f.entry()));
            return d.disassemble(code, f.entry(), Integer.MAX_VALUE).stream()
                    .filter(i -> i.mnemonic().equals("ret")).map(Instruction::address).toList();
        }
    }
}
