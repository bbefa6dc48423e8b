package dev.goemu.emulator;

import dev.goemu.syscalls.Registers;
import dev.goemu.unicorn.Unicorn;
import dev.goemu.unicorn.X86;

/** Moves a thread's registers between Unicorn and the kernel's {@link Registers} (FXSAVE layout for the FPU/SSE state). */
final class CpuRegisters {
    /** Unicorn register ids in sigcontext order (see {@link Registers}). */
    private static final int[] GPR_IDS = {X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15,
            X86.RDI, X86.RSI, X86.RBP, X86.RBX, X86.RDX, X86.RAX, X86.RCX, X86.RSP, X86.RIP, X86.RFLAGS};
    private static final int FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_MXCSR = 24, FX_MXCSR_MASK = 28, FX_ST = 32, FX_XMM = 160;
    private static final int MXCSR_MASK = 0xffbf;

    private CpuRegisters() {}

    static Registers read(Unicorn cpu) {
        Registers r = new Registers();
        for (int i = 0; i < Registers.COUNT; i++) r.gpr[i] = cpu.reg(GPR_IDS[i]);
        byte[] fx = r.fxsave;
        putShort(fx, FX_FCW, (int) cpu.reg(X86.FPCW));
        putShort(fx, FX_FSW, (int) cpu.reg(X86.FPSW));
        fx[FX_FTW] = (byte) abridgedTags((int) cpu.reg(X86.FPTAG));
        putInt(fx, FX_MXCSR, (int) cpu.reg(X86.MXCSR));
        putInt(fx, FX_MXCSR_MASK, MXCSR_MASK);
        for (int i = 0; i < 8; i++) System.arraycopy(cpu.regBytes(X86.ST0 + i, 10), 0, fx, FX_ST + 16 * i, 10);
        for (int i = 0; i < 16; i++) System.arraycopy(cpu.regBytes(X86.XMM0 + i, 16), 0, fx, FX_XMM + 16 * i, 16);
        return r;
    }

    /** One general register, by its {@link Registers} index. */
    static long read(Unicorn cpu, int index) {
        return cpu.reg(GPR_IDS[index]);
    }

    static void write(Unicorn cpu, Registers r) {
        for (int i = 0; i < Registers.COUNT; i++) cpu.setReg(GPR_IDS[i], r.gpr[i]);
        byte[] fx = r.fxsave;
        cpu.setReg(X86.FPCW, getShort(fx, FX_FCW));
        cpu.setReg(X86.FPSW, getShort(fx, FX_FSW));
        cpu.setReg(X86.FPTAG, fullTags(fx[FX_FTW] & 0xff));
        cpu.setReg(X86.MXCSR, getInt(fx, FX_MXCSR) & MXCSR_MASK);
        byte[] buf = new byte[16];
        for (int i = 0; i < 8; i++) {
            System.arraycopy(fx, FX_ST + 16 * i, buf, 0, 10);
            cpu.setRegBytes(X86.ST0 + i, java.util.Arrays.copyOf(buf, 10));
        }
        for (int i = 0; i < 16; i++) {
            System.arraycopy(fx, FX_XMM + 16 * i, buf, 0, 16);
            cpu.setRegBytes(X86.XMM0 + i, buf.clone());
        }
    }

    /** FXSAVE keeps one bit per x87 register (1 = not empty) where the tag word has two (3 = empty). */
    static int abridgedTags(int tagWord) {
        int out = 0;
        for (int i = 0; i < 8; i++) if (((tagWord >> (2 * i)) & 3) != 3) out |= 1 << i;
        return out;
    }

    static int fullTags(int abridged) {
        int out = 0;
        for (int i = 0; i < 8; i++) if ((abridged & (1 << i)) == 0) out |= 3 << (2 * i);
        return out;
    }

    private static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
    }

    private static void putInt(byte[] b, int off, int v) {
        putShort(b, off, v);
        putShort(b, off + 2, v >> 16);
    }

    private static int getShort(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    private static int getInt(byte[] b, int off) {
        return getShort(b, off) | getShort(b, off + 2) << 16;
    }
}
