package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A handler that throws is goemu's bug: reported once with the call and the guest's pc, and the guest gets EINVAL. */
class InternalErrorTest {
    @Test
    void throwingHandlerBecomesEinvalReportedOnce() {
        TestKernel tk = new TestKernel();
        tk.kernel.table().add(Sys.LOOKUP_DCOOKIE, "x", (task, a) -> {
            throw new ArrayIndexOutOfBoundsException("index " + a[0]);
        });
        Task main = tk.kernel.createMainTask();
        tk.cpu.set(Registers.RIP, 0x401234);
        assertEquals(-Errno.EINVAL, tk.call(main, Sys.LOOKUP_DCOOKIE.nr, 7));
        assertEquals(-Errno.EINVAL, tk.call(main, Sys.LOOKUP_DCOOKIE.nr, 8));
        String out = tk.diagnostics.toString();
        assertTrue(out.startsWith("goemu: internal error in lookup_dcookie(0x7, 0x0, 0x0, ...) at guest pc 0x401234: "
                + "java.lang.ArrayIndexOutOfBoundsException: index 7"), out);
        assertEquals(1, out.lines().count(), out);
    }
}
