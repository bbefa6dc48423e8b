package dev.goemu.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code goemu info} on Go binaries built by the test (plain and {@code -s -w}), a dynamic host binary and bad input. */
class InfoCommandTest {
    private static final Path OUT = Path.of("target", "info-test").toAbsolutePath();
    private static Path plain, stripped;

    record Result(int status, String out, String err) { }

    @BeforeAll
    static void build() throws Exception {
        Path go = TestGo.module(OUT, "package main\n\nfunc main() { println(\"hi\") }\n");
        plain = TestGo.build(go, OUT, "plain");
        stripped = TestGo.build(go, OUT, "stripped", "-ldflags=-s -w");
    }

    static synchronized Result info(String path) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Main.execute(new String[] {"info", path});
            return new Result(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void describesAnUnstrippedGoBinary() {
        Result r = info(plain.toString());
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.contains("Machine:      x86-64"), out);
        assertTrue(out.contains("(_rt0_amd64_linux)"), "entry symbol: " + out);
        assertTrue(out.lines().anyMatch(l -> l.trim().startsWith("LOAD") && l.contains("R E")), "an executable LOAD: " + out);
        for (String s : List.of(".text", ".gopclntab", ".noptrdata", ".typelink", ".itablink", ".go.buildinfo", ".symtab")) {
            assertTrue(out.lines().anyMatch(l -> l.matches("\\s*\\[\\s*\\d+] \\" + s + "\\s.*")), s + " listed: " + out);
        }
        assertTrue(out.contains("Linking:      static"), out);
        assertTrue(out.contains("Version:    go1."), out);
        assertTrue(out.contains("Module:     example.com/info-test (devel)"), out);
        assertTrue(out.contains("GOARCH=amd64"), out);
        assertTrue(out.contains("pclntab:    Go 1.20+ format, "), out);
        assertTrue(out.contains("Symbols:      .symtab, "), out);
        assertTrue(out.contains("DWARF:        present"), out);
        assertTrue(out.contains("Views:        all (struct layouts from DWARF)"), out);
    }

    @Test
    void strippedBinarySaysSymbolsComeFromPclntab() {
        Result r = info(stripped.toString());
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.contains("(_rt0_amd64_linux)"), "entry named from .gopclntab: " + out);
        assertTrue(out.contains("function names and source lines come from .gopclntab"), out);
        assertTrue(out.contains("-ldflags=\"-s -w\""), out);
        assertTrue(out.contains("DWARF:        none"), out);
        assertTrue(out.contains("Views:        all but the debugger's print, which needs DWARF types (built-in layout for go1."), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  main.main:  0x") && l.endsWith("main.go:3")), out);
        assertFalse(out.contains(".symtab"), out);
    }

    @Test
    void describesDynamicBinariesItWouldNotRun() {
        Path host = Path.of("/bin/true");
        assumeTrue(Files.isRegularFile(host) && "amd64".equals(System.getProperty("os.arch")), "needs an x86-64 host /bin/true");
        Result r = info(host.toString());
        assumeTrue(r.status() == 0 || !r.err().contains("x86-64 only"), r.err());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("Linking:      dynamic, interpreter /"), r.out());
        assertTrue(r.out().contains("Go:           not a Go binary"), r.out());
    }

    @Test
    void errorsLikeRun() throws Exception {
        Result missing = info(OUT.resolve("no-such-binary").toString());
        assertEquals(127, missing.status());
        assertTrue(missing.err().startsWith("goemu: no such file: "), missing.err());
        Path script = Files.writeString(OUT.resolve("script.sh"), "#!/bin/sh\necho hi\n");
        Result bad = info(script.toString());
        assertEquals(126, bad.status());
        assertEquals("goemu: " + script + ": not an ELF file (a #! script)", bad.err().trim());
        assertEquals("", bad.out());
    }
}
