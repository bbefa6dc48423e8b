package dev.goemu.unicorn;

import java.io.ByteArrayOutputStream;

/** Hand-assembled x86-64: each argument is one instruction as hex bytes, with its assembly in a comment beside it. */
final class Asm {
    private Asm() {}

    static byte[] asm(String... instructions) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String insn : instructions) {
            for (String b : insn.trim().split("\\s+")) {
                if (!b.isEmpty()) out.write(Integer.parseInt(b, 16));
            }
        }
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /** imm32 as 4 little-endian hex bytes, for building instructions in loops. */
    static String imm32(int v) {
        return String.format("%02x %02x %02x %02x", v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    }

    /** imm64 as 8 little-endian hex bytes (for {@code mov r64, imm64}). */
    static String imm64(long v) {
        return imm32((int) v) + " " + imm32((int) (v >>> 32));
    }

    /** Hardware register number (ModRM/REX encoding) of each 64-bit GPR, in X86 id order of {@link #GPRS}. */
    static final int[] GPRS = {X86.RAX, X86.RCX, X86.RDX, X86.RBX, X86.RSP, X86.RBP, X86.RSI, X86.RDI,
            X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15};

    /** {@code mov r64(k), imm32} (sign-extended): REX.W [+REX.B] C7 /0 with rm = k. */
    static byte[] movImm32(int k, int imm) {
        return asm(String.format("%02x c7 %02x %s", 0x48 | (k >= 8 ? 1 : 0), 0xc0 | (k & 7), imm32(imm)));
    }
}
