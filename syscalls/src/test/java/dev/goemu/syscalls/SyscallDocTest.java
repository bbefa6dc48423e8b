package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/SYSCALLS.md is generated from the syscall table; this fails when the two disagree. */
class SyscallDocTest {
    private static final Path DOC = Path.of("..", "docs", "SYSCALLS.md");

    @Test
    void documentMatchesTable() throws IOException {
        String generated = new TestKernel().kernel.table().markdown();
        if (Boolean.getBoolean("goemu.syscalls.update")) Files.writeString(DOC, generated, StandardCharsets.UTF_8);
        assertTrue(Files.exists(DOC), DOC + " is missing: run this test with -Dgoemu.syscalls.update=true");
        assertEquals(generated, Files.readString(DOC, StandardCharsets.UTF_8),
                "docs/SYSCALLS.md is out of date: run ./test.sh -pl syscalls -am -Dtest=SyscallDocTest "
                        + "-Dsurefire.failIfNoSpecifiedTests=false -Dgoemu.syscalls.update=true");
    }

    @Test
    void everyRowNamesARealCallWithItsLetters() {
        SyscallTable table = new TestKernel().kernel.table();
        for (Sys s : Sys.values()) {
            SyscallTable.Entry e = table.get(s.nr);
            if (e == null) continue;
            assertEquals(s, e.sys());
            assertTrue(e.args().matches("[dxozfslbBp]{0,6}"), e.name() + ": argument letters " + e.args());
            assertEquals(e.support() == SyscallTable.Support.FULL, e.note().isEmpty(), e.name() + ": a note says what is missing");
        }
    }
}
