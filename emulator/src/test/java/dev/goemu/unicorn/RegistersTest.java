package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class RegistersTest extends EngineTestBase {

    @Test
    void libraryIsAtLeast21() {
        String[] v = Unicorn.libraryVersion().split("\\.");
        int major = Integer.parseInt(v[0]), minor = Integer.parseInt(v[1]);
        assertTrue(major > 2 || (major == 2 && minor >= 1), Unicorn.libraryVersion());
        assertTrue(Unicorn.libraryPath().endsWith("libunicorn.so.2"), Unicorn.libraryPath());
    }

    @Test
    void arithmetic() {
        uc.setReg(X86.RBX, 7);
        uc.setReg(X86.RCX, 3);
        run(asm(
                "48 c7 c0 05 00 00 00", // mov rax, 5
                "48 01 d8",             // add rax, rbx        ; rax = 12
                "48 0f af c8"));        // imul rcx, rax       ; rcx = 36
        assertEquals(12, uc.reg(X86.RAX));
        assertEquals(36, uc.reg(X86.RCX));
        assertEquals(7, uc.reg(X86.RBX));
    }

    /** Each GPR id is the register the CPU means: write/read back, then `mov r, imm32` and read it through its id. */
    @Test
    void generalPurposeRegisterIds() {
        for (int k = 0; k < 16; k++) {
            int id = Asm.GPRS[k];
            long v = 0x0102030405060708L * (k + 1);
            uc.setReg(id, v);
            assertEquals(v, uc.reg(id), X86.name(id));
        }
        for (int k = 0; k < 16; k++) {
            int id = Asm.GPRS[k];
            uc.setReg(id, 0);
            run(Asm.movImm32(k, 0x1000 + k)); // mov r_k, 0x1000+k
            assertEquals(0x1000 + k, uc.reg(id), X86.name(id) + " (hardware register " + k + ")");
        }
        uc.setReg(X86.RAX, -1);
        run(Asm.movImm32(0, -2)); // mov rax, -2 (sign-extended imm32)
        assertEquals(-2L, uc.reg(X86.RAX));
    }

    @Test
    void ripIsTheProgramCounter() {
        long end = run(asm(
                "90",                     // nop
                "48 8d 05 00 00 00 00")); // lea rax, [rip]      ; address of the next instruction
        assertEquals(end, uc.reg(X86.RAX));
        assertEquals(end, uc.reg(X86.RIP));
        uc.setReg(X86.RIP, 0x12345);
        assertEquals(0x12345, uc.reg(X86.RIP));
    }

    @Test
    void rflags() {
        run(asm("f9"));  // stc
        assertEquals(1, uc.reg(X86.RFLAGS) & 1, "CF after stc");
        assertEquals(1, uc.reg(X86.EFLAGS) & 1, "CF after stc (EFLAGS)");
        run(asm("f8"));  // clc
        assertEquals(0, uc.reg(X86.RFLAGS) & 1, "CF after clc");
        run(asm("48 31 c0")); // xor rax, rax          ; ZF=1 PF=1
        assertEquals(0x44, uc.reg(X86.RFLAGS) & 0x44, "ZF|PF after xor");
        assertEquals(2, uc.reg(X86.RFLAGS) & 2, "reserved bit 1");

        // Writing CF through RFLAGS is seen by adc; pushfq shows what the CPU holds.
        uc.setReg(X86.RFLAGS, 0x2 | 0x1);
        assertEquals(0x3, uc.reg(X86.RFLAGS) & 0xff);
        uc.setReg(X86.RAX, 41);
        run(asm("48 83 d0 00")); // adc rax, 0             ; rax = 41 + CF
        assertEquals(42, uc.reg(X86.RAX));
        uc.setReg(X86.EFLAGS, 0x2 | 0x1 | 0x400); // CF, DF
        run(asm(
                "9c",                            // pushfq
                "5b"));                          // pop rbx
        assertEquals(0x403, uc.reg(X86.RBX) & 0x4c3);
        assertEquals(uc.reg(X86.RBX), uc.reg(X86.RFLAGS));
    }

    /** A batch moves its registers in its own order, sees what single reads see, and takes 8-byte registers only. */
    @Test
    void registerBatch() {
        RegisterBatch batch = uc.batch(X86.RDI, X86.R10, X86.RIP, X86.FS_BASE, X86.RFLAGS);
        uc.setReg(X86.RDI, 0x1111_2222_3333_4444L);
        uc.setReg(X86.R10, -5);
        uc.setReg(X86.RIP, CODE + 8);
        uc.setReg(X86.FS_BASE, DATA);
        batch.read();
        assertEquals(0x1111_2222_3333_4444L, batch.get(0));
        assertEquals(-5, batch.get(1));
        assertEquals(CODE + 8, batch.get(2));
        assertEquals(DATA, batch.get(3));
        assertEquals(uc.reg(X86.RFLAGS), batch.get(4));

        batch.set(0, 7);
        batch.set(1, 8);
        batch.set(3, DATA + 0x40);
        batch.write();
        assertEquals(7, uc.reg(X86.RDI));
        assertEquals(8, uc.reg(X86.R10));
        assertEquals(CODE + 8, uc.reg(X86.RIP), "written back as read");
        assertEquals(DATA + 0x40, uc.reg(X86.FS_BASE));

        assertThrows(IndexOutOfBoundsException.class, () -> batch.get(5));
        assertThrows(IllegalArgumentException.class, () -> uc.batch(X86.RAX, X86.EFLAGS));
        assertThrows(IllegalArgumentException.class, () -> uc.batch(X86.XMM0));
        uc.close();
        assertThrows(IllegalStateException.class, batch::read);
        assertThrows(IllegalStateException.class, () -> batch.get(0));
    }

    @Test
    void fsAndGsBase() {
        uc.write(DATA + 0x10, le(0x1122334455667788L));
        uc.write(DATA + 0x20, le(0x0a0b0c0d0e0f1011L));
        uc.setReg(X86.FS_BASE, DATA + 0x10);
        uc.setReg(X86.GS_BASE, DATA + 0x20);
        assertEquals(DATA + 0x10, uc.reg(X86.FS_BASE));
        assertEquals(DATA + 0x20, uc.reg(X86.GS_BASE));
        run(asm(
                "64 48 8b 04 25 00 00 00 00",   // mov rax, fs:[0]
                "65 48 8b 1c 25 00 00 00 00")); // mov rbx, gs:[0]
        assertEquals(0x1122334455667788L, uc.reg(X86.RAX));
        assertEquals(0x0a0b0c0d0e0f1011L, uc.reg(X86.RBX));
        uc.setReg(X86.FS_BASE, 0x7fff_f7ff_e000L); // full 47-bit value round-trips
        assertEquals(0x7fff_f7ff_e000L, uc.reg(X86.FS_BASE));
    }

    @Test
    void segmentSelectors() {
        for (int id : new int[] {X86.CS, X86.SS, X86.DS, X86.ES, X86.FS, X86.GS}) {
            long v = uc.reg(id);
            assertTrue(v >= 0 && v <= 0xffff, X86.name(id) + "=" + v);
        }
        uc.setReg(X86.DS, 0x2b);
        assertEquals(0x2b, uc.reg(X86.DS));
    }

    @Test
    void xmmRegisters() {
        int[] ids = {X86.XMM0, X86.XMM1, X86.XMM2, X86.XMM3, X86.XMM4, X86.XMM5, X86.XMM6, X86.XMM7,
                X86.XMM8, X86.XMM9, X86.XMM10, X86.XMM11, X86.XMM12, X86.XMM13, X86.XMM14, X86.XMM15};
        for (int i = 0; i < 16; i++) {
            byte[] v = new byte[16];
            for (int j = 0; j < 16; j++) v[j] = (byte) (i * 16 + j);
            uc.setRegBytes(ids[i], v);
            assertArrayEquals(v, uc.regBytes(ids[i], 16), X86.name(ids[i]));
        }
        for (int i = 0; i < 16; i++) {
            // movq rax, xmm_i: 66 REX.W[+R] 0f 7e /r (reg = xmm_i, rm = rax)
            uc.setReg(X86.RAX, 0);
            run(asm(String.format("66 %02x 0f 7e %02x", 0x48 | (i >= 8 ? 4 : 0), 0xc0 | ((i & 7) << 3))));
            long expect = ByteBuffer.wrap(uc.regBytes(ids[i], 16)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(expect, uc.reg(X86.RAX), "movq rax, " + X86.name(ids[i]));
            // movq xmm_i, rax: 66 REX.W[+R] 0f 6e /r; zeroes the high half
            uc.setReg(X86.RAX, 0x5555_0000L + i);
            run(asm(String.format("66 %02x 0f 6e %02x", 0x48 | (i >= 8 ? 4 : 0), 0xc0 | ((i & 7) << 3))));
            byte[] got = uc.regBytes(ids[i], 16);
            ByteBuffer b = ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x5555_0000L + i, b.getLong(0), X86.name(ids[i]));
            assertEquals(0, b.getLong(8), X86.name(ids[i]));
        }
        // paddq xmm0, xmm1 on both lanes
        uc.setRegBytes(X86.XMM0, le2(1, 2));
        uc.setRegBytes(X86.XMM1, le2(10, 20));
        run(asm("66 0f d4 c1")); // paddq xmm0, xmm1
        assertArrayEquals(le2(11, 22), uc.regBytes(X86.XMM0, 16));
        // An XMM register is too wide for reg()
        UnicornException e = assertThrows(UnicornException.class, () -> uc.reg(X86.XMM0));
        assertEquals(UnicornException.OVERFLOW, e.code());
        assertTrue(e.getMessage().contains("uc_reg_read(XMM0)"), e.getMessage());
    }

    @Test
    void mxcsrAndX87ControlRegisters() {
        // Unicorn 2.1.4 resets MXCSR, FPCW and the tags to 0 (not the 0x1f80/0x37f/empty of a Linux process).
        assertEquals(0, uc.reg(X86.MXCSR), "MXCSR at Unicorn's reset");
        assertEquals(0, uc.reg(X86.FPCW), "FPCW at Unicorn's reset");
        uc.setLinuxFpuDefaults();
        assertEquals(0x1f80, uc.reg(X86.MXCSR));
        assertEquals(0xffff, uc.reg(X86.FPTAG), "all x87 registers empty");
        run(asm("0f ae 1c 25 00 00 03 00")); // stmxcsr [0x30000]
        assertEquals(0x1f80, readInt(DATA));
        uc.setReg(X86.MXCSR, 0x3f80); // round down
        run(asm("0f ae 1c 25 00 00 03 00")); // stmxcsr [0x30000]
        assertEquals(0x3f80, readInt(DATA));

        assertEquals(0x037f, uc.reg(X86.FPCW), "FPCW after setLinuxFpuDefaults");
        uc.setReg(X86.FPCW, 0x027f); // 53-bit precision
        run(asm("d9 3c 25 00 00 03 00")); // fnstcw [0x30000]
        assertEquals(0x027f, readInt(DATA) & 0xffff);
        assertEquals(0x027f, uc.reg(X86.FPCW));

        run(asm("d9 e8")); // fld1                        ; push 1.0: TOP = 7
        assertEquals(7, (uc.reg(X86.FPSW) >> 11) & 7, "TOP after one push");
        byte[] st0 = uc.regBytes(X86.ST0, 10);
        ByteBuffer b = ByteBuffer.wrap(st0).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x8000_0000_0000_0000L, b.getLong(0), "1.0 mantissa");
        assertEquals(0x3fff, b.getShort(8) & 0xffff, "1.0 sign+exponent");
        run(asm("dd 3c 25 00 00 03 00")); // fnstsw [0x30000]
        assertEquals(uc.reg(X86.FPSW), readInt(DATA) & 0xffff);

        // Write ST0 = 2.0, then fstp qword [0x30008] must store the double 2.0.
        uc.setRegBytes(X86.ST0, concat(le(0x8000_0000_0000_0000L), new byte[] {0x00, 0x40}));
        run(asm("dd 1c 25 08 00 03 00")); // fstp qword [0x30008]
        assertEquals(Double.doubleToRawLongBits(2.0), readLong(DATA + 8));
        assertEquals(0xffff, uc.reg(X86.FPTAG), "stack empty again after fld1/fstp");
    }

    @Test
    void names() {
        assertEquals("RAX", X86.name(X86.RAX));
        assertEquals("FS_BASE", X86.name(X86.FS_BASE));
        assertEquals("XMM15", X86.name(X86.XMM15));
        assertEquals("REG_9999", X86.name(9999));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return Asm.concat(a, b);
    }

    static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] le2(long lo, long hi) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(lo).putLong(hi).array();
    }

    int readInt(long addr) {
        return ByteBuffer.wrap(uc.read(addr, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    long readLong(long addr) {
        return ByteBuffer.wrap(uc.read(addr, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
