package dev.goemu.unicorn;

import static dev.goemu.unicorn.Asm.asm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Two green threads on one engine, switched with uc_context save/restore at syscalls, as the scheduler does. */
class ContextTest extends EngineTestBase {
    static final byte[] LOOP = asm(
            "48 ff c0",   // 0x10000: inc rax
            "48 01 c3",   // 0x10003: add rbx, rax
            "0f 05",      // 0x10006: syscall            ; hook stops: a switch point
            "eb f6");     // 0x10008: jmp 0x10000

    @Test
    void switchesBetweenTwoRegisterStates() {
        uc.write(CODE, LOOP);
        uc.onSyscall(uc::stop);
        byte[] xmmA = RegistersTest.le2(0xaaaa, 0xa1a1), xmmB = RegistersTest.le2(0xbbbb, 0xb1b1);

        uc.setReg(X86.RIP, CODE);
        uc.setReg(X86.RAX, 100);
        uc.setReg(X86.RBX, 0);
        uc.setReg(X86.RSP, DATA + 0x1000);
        uc.setReg(X86.FS_BASE, 0x1111000);
        uc.setRegBytes(X86.XMM0, xmmA);
        Context a = uc.newContext();
        a.save();

        uc.setReg(X86.RAX, 200);
        uc.setReg(X86.RBX, 0);
        uc.setReg(X86.RSP, DATA + 0x2000);
        uc.setReg(X86.FS_BASE, 0x2222000);
        uc.setRegBytes(X86.XMM0, xmmB);
        Context b = uc.newContext();
        b.save();

        for (int round = 1; round <= 3; round++) {
            a.restore();
            assertEquals(round == 1 ? CODE : CODE + 8, uc.reg(X86.RIP));
            uc.start(uc.reg(X86.RIP));
            a.save();
            b.restore();
            uc.start(uc.reg(X86.RIP));
            b.save();
        }
        assertEquals(103, a.reg(X86.RAX), "a snapshot's registers read without restoring it");
        assertEquals(0x2222000, b.reg(X86.FS_BASE));
        a.restore();
        assertEquals(103, uc.reg(X86.RAX));
        assertEquals(101 + 102 + 103, uc.reg(X86.RBX));
        assertEquals(DATA + 0x1000, uc.reg(X86.RSP));
        assertEquals(0x1111000, uc.reg(X86.FS_BASE));
        assertArrayEquals(xmmA, uc.regBytes(X86.XMM0, 16));
        assertEquals(CODE + 8, uc.reg(X86.RIP));
        b.restore();
        assertEquals(203, uc.reg(X86.RAX));
        assertEquals(201 + 202 + 203, uc.reg(X86.RBX));
        assertEquals(DATA + 0x2000, uc.reg(X86.RSP));
        assertEquals(0x2222000, uc.reg(X86.FS_BASE));
        assertArrayEquals(xmmB, uc.regBytes(X86.XMM0, 16));

        a.close();
        a.close(); // idempotent
        assertThrows(IllegalStateException.class, a::restore);
        b.restore();
    }

    @Test
    void contextsDieWithTheEngine() {
        Context c = uc.newContext();
        c.save();
        uc.close();
        assertThrows(IllegalStateException.class, c::restore);
        c.close(); // no-op, no crash
    }
}
