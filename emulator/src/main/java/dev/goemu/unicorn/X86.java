package dev.goemu.unicorn;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * x86 register ids for {@link Unicorn#reg}/{@link Unicorn#setReg}: Unicorn 2.1.4's uc_x86_reg values
 * (include/unicorn/x86.h; cross-checked with the wheel's generated x86_const.py). Registers wider than 8 bytes
 * (XMM, YMM, ST) go through {@link Unicorn#regBytes}/{@link Unicorn#setRegBytes}.
 */
public final class X86 {
    /** General-purpose registers (64-bit). */
    public static final int RAX = 35;
    public static final int RBX = 37;
    public static final int RCX = 38;
    public static final int RDX = 40;
    public static final int RSI = 43;
    public static final int RDI = 39;
    public static final int RBP = 36;
    public static final int RSP = 44;
    public static final int R8 = 106;
    public static final int R9 = 107;
    public static final int R10 = 108;
    public static final int R11 = 109;
    public static final int R12 = 110;
    public static final int R13 = 111;
    public static final int R14 = 112;
    public static final int R15 = 113;

    /** Instruction pointer. In the SYSCALL hook it points at the 0f 05 (see {@link Unicorn#onSyscall}). */
    public static final int RIP = 41;

    /** RFLAGS (64-bit, UC_X86_REG_RFLAGS) and EFLAGS (32-bit view). */
    public static final int RFLAGS = 253;
    public static final int EFLAGS = 25;

    /** Segment selectors (16-bit). */
    public static final int CS = 11;
    public static final int SS = 49;
    public static final int DS = 17;
    public static final int ES = 28;
    public static final int FS = 32;
    public static final int GS = 33;

    /** Segment bases used by fs:/gs: addressing (64-bit). */
    public static final int FS_BASE = 250;
    public static final int GS_BASE = 251;

    /** SSE registers: 16 bytes, use regBytes/setRegBytes. */
    public static final int XMM0 = 122;
    public static final int XMM1 = 123;
    public static final int XMM2 = 124;
    public static final int XMM3 = 125;
    public static final int XMM4 = 126;
    public static final int XMM5 = 127;
    public static final int XMM6 = 128;
    public static final int XMM7 = 129;
    public static final int XMM8 = 130;
    public static final int XMM9 = 131;
    public static final int XMM10 = 132;
    public static final int XMM11 = 133;
    public static final int XMM12 = 134;
    public static final int XMM13 = 135;
    public static final int XMM14 = 136;
    public static final int XMM15 = 137;

    /** YMM registers: 32 bytes, use regBytes/setRegBytes (only meaningful with an AVX CPU model). */
    public static final int YMM0 = 154;
    public static final int YMM1 = 155;
    public static final int YMM2 = 156;
    public static final int YMM3 = 157;
    public static final int YMM4 = 158;
    public static final int YMM5 = 159;
    public static final int YMM6 = 160;
    public static final int YMM7 = 161;
    public static final int YMM8 = 162;
    public static final int YMM9 = 163;
    public static final int YMM10 = 164;
    public static final int YMM11 = 165;
    public static final int YMM12 = 166;
    public static final int YMM13 = 167;
    public static final int YMM14 = 168;
    public static final int YMM15 = 169;

    /** SSE control/status (32-bit). */
    public static final int MXCSR = 249;

    /** x87 control word, status word, tag word (16-bit). */
    public static final int FPCW = 246;
    public static final int FPSW = 31;
    public static final int FPTAG = 247;

    /** x87 stack registers ST(i), relative to TOP: 10 bytes (64-bit mantissa, then 16-bit sign+exponent), use regBytes. */
    public static final int ST0 = 114;
    public static final int ST1 = 115;
    public static final int ST2 = 116;
    public static final int ST3 = 117;
    public static final int ST4 = 118;
    public static final int ST5 = 119;
    public static final int ST6 = 120;
    public static final int ST7 = 121;

    /** CPU models for {@link Unicorn#setCpuModel} (Unicorn's uc_cpu_x86). */
    public static final class Cpu {
        public static final int QEMU64 = 0;
        public static final int NEHALEM = 15;
        public static final int HASWELL = 19;
        public static final int SKYLAKE_CLIENT = 21;
        public static final int EPYC = 35;

        private Cpu() {}
    }

    private static final Map<Integer, String> NAMES = new HashMap<>();

    static {
        for (Field f : X86.class.getDeclaredFields()) {
            int m = f.getModifiers();
            if (f.getType() == int.class && Modifier.isStatic(m) && Modifier.isPublic(m)) {
                try {
                    NAMES.putIfAbsent(f.getInt(null), f.getName());
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    private X86() {}

    /** "RAX" for {@link #RAX}, etc.; "REG_<id>" for ids this class does not name. */
    public static String name(int id) {
        String n = NAMES.get(id);
        return n != null ? n : "REG_" + id;
    }
}
