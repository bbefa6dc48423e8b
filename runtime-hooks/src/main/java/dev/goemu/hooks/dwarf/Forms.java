package dev.goemu.hooks.dwarf;

/** DWARF attribute form codes (DWARF 5, section 7.5.6), plus the GNU extensions a reader may meet. */
final class Forms {
    static final int ADDR = 0x01, BLOCK2 = 0x03, BLOCK4 = 0x04, DATA2 = 0x05, DATA4 = 0x06, DATA8 = 0x07,
            STRING = 0x08, BLOCK = 0x09, BLOCK1 = 0x0a, DATA1 = 0x0b, FLAG = 0x0c, SDATA = 0x0d, STRP = 0x0e,
            UDATA = 0x0f, REF_ADDR = 0x10, REF1 = 0x11, REF2 = 0x12, REF4 = 0x13, REF8 = 0x14, REF_UDATA = 0x15,
            INDIRECT = 0x16, SEC_OFFSET = 0x17, EXPRLOC = 0x18, FLAG_PRESENT = 0x19, STRX = 0x1a, ADDRX = 0x1b,
            REF_SUP4 = 0x1c, STRP_SUP = 0x1d, DATA16 = 0x1e, LINE_STRP = 0x1f, REF_SIG8 = 0x20,
            IMPLICIT_CONST = 0x21, LOCLISTX = 0x22, RNGLISTX = 0x23, REF_SUP8 = 0x24, STRX1 = 0x25, STRX2 = 0x26,
            STRX3 = 0x27, STRX4 = 0x28, ADDRX1 = 0x29, ADDRX2 = 0x2a, ADDRX3 = 0x2b, ADDRX4 = 0x2c;
    static final int GNU_ADDR_INDEX = 0x1f01, GNU_STR_INDEX = 0x1f02, GNU_REF_ALT = 0x1f20, GNU_STRP_ALT = 0x1f21;

    private Forms() {
    }
}
