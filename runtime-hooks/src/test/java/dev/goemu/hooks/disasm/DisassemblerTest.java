package dev.goemu.hooks.disasm;

import dev.goemu.hooks.GoFunc;
import dev.goemu.hooks.GoSymbols;
import dev.goemu.loader.ElfFile;
import dev.goemu.loader.Symbol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Capstone binding on hand-assembled bytes (texts as GNU objdump -M intel prints them too), and on a real Go
 * binary against {@code go tool objdump}: instruction boundaries, lengths, branch and RIP-relative targets.
 */
class DisassemblerTest {
    private static final Path OUT = Path.of("target", "disasm-test").toAbsolutePath();
    private static final long AT = 0x401000;

    private static Disassembler disassembler;
    private static Path goBinary;

    /** The shared disassembler; tests that need libcapstone skip when the build did not configure it. */
    private static synchronized Disassembler capstone() {
        if (disassembler == null) {
            String lib = System.getProperty(Disassembler.PROPERTY);
            assumeTrue(lib != null && !lib.isBlank() && !lib.startsWith("${"),
                    "goemu.capstone.lib is unset (scripts/lib.sh ensure_capstone sets it)");
            disassembler = Disassembler.openX86_64();
        }
        return disassembler;
    }

    @AfterAll
    static void close() {
        if (disassembler != null) disassembler.close();
    }

    private static Instruction only(String hex) {
        List<Instruction> insns = capstone().disassemble(HexFormat.of().parseHex(hex), AT, 10);
        assertEquals(1, insns.size(), hex + " → " + insns);
        Instruction insn = insns.getFirst();
        assertEquals(AT, insn.address());
        assertArrayEquals(HexFormat.of().parseHex(hex), insn.bytes());
        assertEquals(hex.length() / 2, insn.size());
        return insn;
    }

    private static String text(Instruction insn) {
        return insn.operands().isEmpty() ? insn.mnemonic() : insn.mnemonic() + " " + insn.operands();
    }

    @Test
    void ripRelativeLea() {
        Instruction lea = only("488d0578563412");
        assertEquals("lea rax, [rip + 0x12345678]", text(lea));
        assertEquals(OptionalLong.of(AT + 7 + 0x12345678), lea.ripTarget());
        assertEquals(OptionalLong.empty(), lea.branchTarget());
    }

    @Test
    void ripRelativeNegativeDisplacement() {
        Instruction mov = only("488b05f0ffffff");
        assertEquals("mov rax, qword ptr [rip - 0x10]", text(mov));
        assertEquals(OptionalLong.of(AT + 7 - 0x10), mov.ripTarget());
        Instruction far = only("488d0d00000080");
        assertEquals("lea rcx, [rip - 0x80000000]", text(far));
        assertEquals(OptionalLong.of(AT + 7 - 0x80000000L), far.ripTarget());
    }

    @Test
    void callRel32() {
        Instruction forward = only("e8fb0f0000");
        assertEquals("call 0x402000", text(forward));
        assertEquals(OptionalLong.of(0x402000), forward.branchTarget());
        assertEquals(OptionalLong.empty(), forward.ripTarget());
        assertEquals(OptionalLong.of(AT + 5 - 10), only("e8f6ffffff").branchTarget());
    }

    @Test
    void shortBranchesToThemselves() {
        for (String hex : List.of("75fe", "e2fe", "e3fe", "ebfe")) {
            assertEquals(OptionalLong.of(AT), only(hex).branchTarget(), hex);
        }
        assertEquals(List.of("jne", "loop", "jrcxz", "jmp"),
                Stream.of("75fe", "e2fe", "e3fe", "ebfe").map(h -> only(h).mnemonic()).toList());
    }

    @Test
    void indirectBranchesHaveNoTarget() {
        assertEquals("call rax", text(only("ffd0")));
        assertEquals(OptionalLong.empty(), only("ffd0").branchTarget());
        Instruction viaMemory = only("ff15f0ffffff");
        assertEquals("call qword ptr [rip - 0x10]", text(viaMemory));
        assertEquals(OptionalLong.empty(), viaMemory.branchTarget());
        assertEquals(OptionalLong.of(AT + 6 - 0x10), viaMemory.ripTarget(), "the slot holding the target");
        assertEquals(OptionalLong.empty(), only("ff24c5a0000000").branchTarget()); // jmp qword ptr [rax*8 + 0xa0]
    }

    @Test
    void prefixesStayInTheMnemonic() {
        Instruction bnd = only("f2e8fb0f0000");
        assertEquals("bnd call 0x402001", text(bnd));
        assertEquals(OptionalLong.of(0x402001), bnd.branchTarget());
        Instruction lock = only("f0480fb10d10000000");
        assertEquals("lock cmpxchg qword ptr [rip + 0x10], rcx", text(lock));
        assertEquals(OptionalLong.of(AT + 9 + 0x10), lock.ripTarget());
    }

    @Test
    void syscallHasNoOperands() {
        Instruction syscall = only("0f05");
        assertEquals("syscall", syscall.mnemonic());
        assertEquals("", syscall.operands());
    }

    @Test
    void vexAndEvexEncodings() {
        assertEquals("vmovdqa ymm0, ymmword ptr [rsi]", text(only("c5fd6f06")));       // 2-byte VEX
        assertEquals("vpbroadcastd ymm0, dword ptr [rsi]", text(only("c4e27d5806"))); // 3-byte VEX
        assertEquals("vinsertf128 ymm0, ymm0, xmm0, 1", text(only("c4e37d18c001")));
        assertEquals("vmovdqu64 zmm0, zmmword ptr [rsi]", text(only("62f1fe486f06"))); // EVEX
    }

    @Test
    void consecutiveInstructionsUpToMaxCount() {
        byte[] code = HexFormat.of().parseHex("554889e5" + "488d0578563412" + "0f05" + "c3");
        List<Instruction> all = capstone().disassemble(code, AT, 100);
        assertEquals(List.of("push rbp", "mov rbp, rsp", "lea rax, [rip + 0x12345678]", "syscall", "ret"),
                all.stream().map(DisassemblerTest::text).toList());
        long at = AT;
        for (Instruction insn : all) {
            assertEquals(at, insn.address());
            at = insn.next();
        }
        assertEquals(AT + code.length, at);
        assertEquals(all.subList(0, 2), capstone().disassemble(code, AT, 2));
        assertEquals(List.of(), capstone().disassemble(code, AT, 0));
        assertEquals(List.of(), capstone().disassemble(new byte[0], AT, 5));
        assertThrows(IllegalArgumentException.class, () -> capstone().disassemble(code, AT, -1));
    }

    @Test
    void decodingStopsAtInvalidBytes() {
        // 0x06 (push es) does not exist in 64-bit mode; 0x0f alone is a truncated two-byte opcode.
        assertEquals(List.of(), capstone().disassemble(HexFormat.of().parseHex("06"), AT, 10));
        assertEquals(List.of(), capstone().disassemble(HexFormat.of().parseHex("0f"), AT, 10));
        List<Instruction> upToBad = capstone().disassemble(HexFormat.of().parseHex("900690"), AT, 10);
        assertEquals(List.of("nop"), upToBad.stream().map(Instruction::mnemonic).toList());
    }

    @Test
    void closedDisassemblerRefusesWork() {
        capstone();
        Disassembler d = Disassembler.openX86_64();
        d.close();
        d.close();
        assertThrows(IllegalStateException.class, () -> d.disassemble(new byte[] {(byte) 0x90}, AT, 1));
    }

    // ---- library set-up errors: one line each, naming what to do -------------------------------------------

    @Test
    void unsetLibraryIsAClearError() {
        var e = assertThrows(DisassemblerUnavailableException.class,
                () -> Disassembler.openX86_64("${env.GOEMU_CAPSTONE_LIB}", null));
        assertEquals("disassembler unavailable: set GOEMU_CAPSTONE_LIB or run ./build.sh", e.getMessage());
    }

    @Test
    void missingLibraryIsAClearError() {
        var e = assertThrows(DisassemblerUnavailableException.class,
                () -> Disassembler.openX86_64(null, "/nonexistent/libcapstone.so"));
        assertEquals("disassembler unavailable: GOEMU_CAPSTONE_LIB=/nonexistent/libcapstone.so does not exist;"
                + " set GOEMU_CAPSTONE_LIB or run ./build.sh", e.getMessage());
    }

    @Test
    void aLibraryThatIsNotCapstoneIsAClearError() {
        Path libjava = Path.of(System.getProperty("java.home"), "lib", "libjava.so");
        var e = assertThrows(DisassemblerUnavailableException.class,
                () -> Disassembler.openX86_64(libjava.toString(), null));
        assertEquals("disassembler unavailable: " + libjava + " is not a Capstone library: it has no cs_version;"
                + " set GOEMU_CAPSTONE_LIB or run ./build.sh", e.getMessage());
    }

    // ---- text parsing alone (no library) -----------------------------------------------------------------

    @Test
    void targetsFromCapstoneText() {
        assertEquals(OptionalLong.of(0x1007), insn("mov", "rax, qword ptr [rip]").ripTarget());
        assertEquals(OptionalLong.of(0x100f), insn("mov", "rax, qword ptr [rip + 8]").ripTarget());
        assertEquals(OptionalLong.of(0x0fff), insn("mov", "byte ptr [rip - 8], 1").ripTarget());
        assertEquals(OptionalLong.empty(), insn("mov", "rax, qword ptr fs:[0xfffffffffffffff8]").ripTarget());
        assertEquals(OptionalLong.empty(), insn("mov", "rax, qword ptr [rax + 0x10]").ripTarget());
        assertEquals(OptionalLong.of(2), insn("jmp", "2").branchTarget());
        assertEquals(OptionalLong.of(-2), insn("jmp", "0xfffffffffffffffe").branchTarget());
        assertEquals(OptionalLong.of(0x46b2c0), insn("notrack jmp", "0x46b2c0").branchTarget());
        assertEquals(OptionalLong.of(0x46b2c0), insn("loopne", "0x46b2c0").branchTarget());
        assertEquals(OptionalLong.empty(), insn("int", "0x80").branchTarget());
        assertEquals(OptionalLong.empty(), insn("push", "0x46b2c0").branchTarget());
        assertEquals(OptionalLong.empty(), insn("call", "qword ptr [rip + 0x10]").branchTarget());
    }

    @Test
    void instructionsAreValues() {
        byte[] bytes = new byte[7];
        Instruction a = new Instruction(0x1000, 7, bytes, "lea", "rax, [rip]");
        bytes[0] = 1;
        assertEquals(new Instruction(0x1000, 7, new byte[7], "lea", "rax, [rip]"), a);
        a.bytes()[0] = 1;
        assertEquals(0, a.bytes()[0]);
        assertEquals("0x1000: 00 00 00 00 00 00 00  lea rax, [rip]", a.toString());
        assertThrows(IllegalArgumentException.class, () -> new Instruction(0x1000, 6, new byte[7], "lea", "rax, [rip]"));
    }

    private static Instruction insn(String mnemonic, String operands) {
        return new Instruction(0x1000, 7, new byte[7], mnemonic, operands);
    }

    // ---- against the Go toolchain ----------------------------------------------------------------------

    /** One line of {@code go tool objdump}: address, encoding and Go-syntax text. */
    private record GoInsn(long address, int size, String text) {}

    private static final Pattern GO_LINE = Pattern.compile("^\\s+\\S+\\t+0x([0-9a-f]+)\\t+([0-9a-f]+)\\t+(.*?)\\s*$");
    private static final Pattern GO_BRANCH = Pattern.compile("^(CALL|JMP|J[A-Z]+|LOOP[A-Z]*) (.+)$");
    private static final Pattern GO_SYMBOL = Pattern.compile("^(.+?)(?:\\+(\\d+))?\\(SB\\)$");
    private static final Pattern GO_IP_RELATIVE = Pattern.compile("^0x([0-9a-f]+)\\(IP\\)$");

    /**
     * Boundaries, lengths and targets agree with {@code go tool objdump}. Go's syntax differs from Intel text, so
     * texts are not compared: Go names a target by symbol ({@code CALL runtime.morestack_noctxt.abi0(SB)},
     * {@code LEAQ runtime.m0+128(SB), DI}), by address ({@code JBE 0x49e1af}) or by raw displacement
     * ({@code LEAQ 0xb681(IP), CX}); each is turned into an address with the ELF symbol table.
     */
    @ParameterizedTest
    @ValueSource(strings = {"main.main", "runtime.rt0_go"})
    void agreesWithGoToolObjdump(String function) throws Exception {
        Path bin = goBinary();
        ElfFile elf = ElfFile.read(bin);
        GoFunc f = GoSymbols.load(elf).orElseThrow().lookup(function).orElseThrow();
        byte[] code = elf.bytesAt(f.entry(), (int) (f.end() - f.entry())).orElseThrow();
        List<Instruction> ours = capstone().disassemble(code, f.entry(), code.length);

        String regex = "^" + function.replace(".", "\\.") + "(\\.abi0)?$"; // assembly functions are NAME.abi0 in .symtab
        List<GoInsn> go = goObjdump(bin, regex);
        assertTrue(go.size() > 10, "objdump lines: " + go.size() + " for " + regex);
        long goEnd = go.getLast().address() + go.getLast().size();
        // pclntab's function ends at the next function; objdump stops at the symbol's size, before int3 padding.
        List<Instruction> padding = ours.stream().filter(i -> i.address() >= goEnd).toList();
        assertTrue(padding.stream().allMatch(i -> i.mnemonic().equals("int3")), "after the function: " + padding);
        List<Instruction> body = ours.subList(0, ours.size() - padding.size());
        assertEquals(go.stream().map(g -> g.address() + "+" + g.size()).toList(),
                body.stream().map(i -> i.address() + "+" + i.size()).toList(), "instruction boundaries and lengths");

        int branches = 0, ripOperands = 0;
        for (int k = 0; k < go.size(); k++) {
            GoInsn g = go.get(k);
            Instruction i = body.get(k);
            String where = String.format("0x%x %s / %s %s", g.address(), g.text(), i.mnemonic(), i.operands());
            Matcher branch = GO_BRANCH.matcher(g.text());
            if (branch.matches()) {
                OptionalLong goTarget = target(elf, branch.group(2), i);
                assertEquals(goTarget, i.branchTarget(), where);
                if (goTarget.isPresent()) branches++;
                continue;
            }
            assertEquals(OptionalLong.empty(), i.branchTarget(), where);
            OptionalLong goRip = OptionalLong.empty();
            for (String arg : g.text().substring(g.text().indexOf(' ') + 1).split(", ")) {
                OptionalLong t = target(elf, arg, i);
                if (t.isPresent()) goRip = t;
            }
            assertEquals(goRip, i.ripTarget(), where);
            if (goRip.isPresent()) ripOperands++;
        }
        assertTrue(branches >= 3, "direct branches compared: " + branches);
        assertTrue(ripOperands >= 2, "RIP-relative operands compared: " + ripOperands);
    }

    /** The address a Go-syntax operand names: {@code 0x47d555}, {@code sym+off(SB)} or {@code disp(IP)}. */
    private static OptionalLong target(ElfFile elf, String arg, Instruction at) {
        if (arg.matches("0x[0-9a-f]+")) return OptionalLong.of(Long.parseUnsignedLong(arg.substring(2), 16));
        Matcher ip = GO_IP_RELATIVE.matcher(arg);
        if (ip.matches()) return OptionalLong.of(at.next() + (int) Long.parseLong(ip.group(1), 16));
        Matcher sym = GO_SYMBOL.matcher(arg);
        if (!sym.matches()) return OptionalLong.empty();
        Symbol s = elf.symbols().lookup(sym.group(1)).orElseThrow(() -> new AssertionError("no symbol " + arg));
        return OptionalLong.of(s.value() + (sym.group(2) == null ? 0 : Long.parseLong(sym.group(2))));
    }

    private static List<GoInsn> goObjdump(Path bin, String regex) throws Exception {
        String out = go(OUT, "tool", "objdump", "-s", regex, bin.toString());
        List<GoInsn> insns = new ArrayList<>();
        for (String line : out.split("\n")) {
            Matcher m = GO_LINE.matcher(line);
            if (m.matches()) insns.add(new GoInsn(Long.parseUnsignedLong(m.group(1), 16), m.group(2).length() / 2, m.group(3)));
        }
        return insns;
    }

    private static synchronized Path goBinary() throws Exception {
        if (goBinary != null) return goBinary;
        Path bin = OUT.resolve("disasmtest");
        Path src = OUT.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("go.mod"), "module example.com/disasmtest\n\ngo 1.19\n");
        // Loops (jcc), calls to a Go function and the runtime, and globals read and written RIP-relative.
        Files.writeString(src.resolve("main.go"), """
                package main

                import "os"

                var total int
                var table = [4]int{1, 2, 3, 5}

                //go:noinline
                func add(k int) { total += k }

                func main() {
                	for i := 0; i < len(os.Args)+3; i++ {
                		add(table[i%4])
                	}
                	println(total)
                }
                """);
        go(src, "build", "-o", bin.toString(), ".");
        goBinary = bin;
        return bin;
    }

    /** Runs the machine's go (the one on PATH, as build.sh uses), building static linux/amd64 binaries. */
    private static String go(Path dir, String... args) throws Exception {
        List<String> cmd = Stream.concat(Stream.of("go"), Stream.of(args)).toList();
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(Map.of("GOTOOLCHAIN", "local", "CGO_ENABLED", "0", "GOOS", "linux", "GOARCH", "amd64"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), cmd + " failed:\n" + out);
        return out;
    }
}
