package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LifecycleTest {

    @Test
    void closeIsIdempotentAndUseAfterCloseFailsCleanly() {
        Unicorn uc = Unicorn.openX86_64();
        uc.map(0x1000, 0x1000, Perm.ALL);
        Hook h = uc.onSyscall(() -> {});
        uc.close();
        uc.close();
        h.close(); // no-op once the engine is gone
        assertTrue(uc.isClosed());
        assertThrows(IllegalStateException.class, () -> uc.reg(X86.RAX));
        assertThrows(IllegalStateException.class, () -> uc.start(0x1000));
        assertThrows(IllegalStateException.class, () -> uc.map(0x2000, 0x1000, Perm.ALL));
    }

    @Test
    void closeFromAHookIsRefused() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.map(0x1000, 0x1000, Perm.ALL);
            uc.write(0x1000, asm("0f 05")); // syscall
            uc.onSyscall(uc::close);
            assertThrows(IllegalStateException.class, () -> uc.start(0x1000, 0x1002));
        }
    }

    @Test
    void manyEngines() {
        for (int i = 0; i < 50; i++) {
            try (Unicorn uc = Unicorn.openX86_64()) {
                uc.map(0x1000, 0x1000, Perm.ALL);
                uc.write(0x1000, asm("48 c7 c0 2a 00 00 00")); // mov rax, 42
                uc.onSyscall(() -> {});
                uc.start(0x1000, 0x1007);
                assertEquals(42, uc.reg(X86.RAX));
            }
        }
    }

    /**
     * CPUID leaf 1. Unicorn 2.1.4's default x86-64 model is Haswell (signature 0x306cX, MOVBE = ECX bit 22), yet
     * AVX (ECX bit 28) is off: its TCG does not implement AVX and masks it, whatever the model.
     */
    @Test
    void cpuModel() {
        long[] dflt = cpuid1(null), qemu64 = cpuid1(X86.Cpu.QEMU64), haswell = cpuid1(X86.Cpu.HASWELL);
        System.out.printf("[observed] CPUID.1 default eax=%x ecx=%x; qemu64 eax=%x ecx=%x; haswell eax=%x ecx=%x%n",
                dflt[0], dflt[1], qemu64[0], qemu64[1], haswell[0], haswell[1]);
        assertEquals(0x306c0, dflt[0] & 0xffff0, "default: Haswell, family 6 model 0x3c");
        assertEquals(1, (dflt[1] >> 22) & 1, "MOVBE");
        assertEquals(0, (dflt[1] >> 28) & 1, "no AVX");
        assertEquals(dflt[0], haswell[0]);
        assertTrue(qemu64[0] != haswell[0], "QEMU64 has another signature");
        assertEquals(0, (qemu64[1] >> 22) & 1, "no MOVBE on qemu64");
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.map(0x1000, 0x1000, Perm.ALL);
            UnicornException e = assertThrows(UnicornException.class, () -> uc.setCpuModel(X86.Cpu.HASWELL));
            assertEquals(UnicornException.ARG, e.code());
        }
    }

    static long[] cpuid1(Integer model) {
        try (Unicorn uc = Unicorn.openX86_64()) {
            if (model != null) uc.setCpuModel(model);
            uc.map(0x1000, 0x1000, Perm.ALL);
            uc.write(0x1000, asm(
                    "b8 01 00 00 00", // mov eax, 1
                    "31 c9",          // xor ecx, ecx
                    "0f a2"));        // cpuid
            uc.start(0x1000, 0x1009);
            return new long[] {uc.reg(X86.RAX), uc.reg(X86.RCX)};
        }
    }

    @Test
    void missingLibrariesGiveClearMessages() {
        UnicornException e = assertThrows(UnicornException.class, () -> Native.Library.locate(null, null));
        assertTrue(e.getMessage().startsWith("libunicorn.so.2 not found: set GOEMU_UNICORN_LIB"), e.getMessage());
        assertEquals(UnicornException.SETUP, e.code());
        e = assertThrows(UnicornException.class, () -> Native.Library.locate("${env.GOEMU_UNICORN_LIB}", "/nope/x.so"));
        assertTrue(e.getMessage().contains("GOEMU_UNICORN_LIB=/nope/x.so does not exist"), e.getMessage());
        e = assertThrows(UnicornException.class, () -> HooksLibrary.locate(null, null));
        assertTrue(e.getMessage().startsWith("libgoemu_hooks.so not found: system property goemu.hooks.lib is not set"),
                e.getMessage());
        e = assertThrows(UnicornException.class, () -> HooksLibrary.locate("/nope/libgoemu_hooks.so", null));
        assertTrue(e.getMessage().contains("/nope/libgoemu_hooks.so does not exist"), e.getMessage());
    }
}
