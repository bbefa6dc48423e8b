package dev.goemu.hooks.dwarf;

import dev.goemu.hooks.GoFormatException;
import dev.goemu.loader.ElfFile;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The types and global variables of a Go binary's DWARF ({@code .debug_info}, {@code .debug_abbrev}, and the string
 * sections when a form needs them), by their Go names: {@code runtime.g}, {@code *runtime.m}, {@code []*runtime.p},
 * {@code runtime.sched}. Go's DWARF puts every type and global directly under a compilation unit; a named struct is a
 * structure DIE plus a typedef of the same name pointing at it, and slices, strings and interfaces are structs too.
 *
 * <p>Loading walks every DIE once, keeping only the offsets of those top-level named types and variables (a
 * hello-world has about 100,000 DIEs); a type is decoded when asked for, and its members when first listed. Not
 * thread-safe: decoded types are cached.
 */
public final class GoDwarf {
    static final int TAG_ARRAY = 0x01, TAG_MEMBER = 0x0d, TAG_POINTER = 0x0f, TAG_STRUCT = 0x13,
            TAG_SUBROUTINE = 0x15, TAG_TYPEDEF = 0x16, TAG_SUBRANGE = 0x21, TAG_BASE = 0x24, TAG_VARIABLE = 0x34,
            TAG_UNSPECIFIED = 0x3b;
    private static final int AT_LOCATION = 0x02, AT_NAME = 0x03, AT_BYTE_SIZE = 0x0b, AT_UPPER_BOUND = 0x2f,
            AT_COUNT = 0x37, AT_MEMBER_LOCATION = 0x38, AT_TYPE = 0x49, AT_STR_OFFSETS_BASE = 0x72;
    private static final int DW_OP_ADDR = 0x03, DW_OP_PLUS_UCONST = 0x23;
    private static final int UT_COMPILE = 1, UT_PARTIAL = 3;

    private final byte[] info;
    private final byte[] abbrevSection;
    private final DebugSections sections;
    private final DebugSections.Compression compression;
    private byte[] str, lineStr, strOffsets;
    private final List<Unit> units = new ArrayList<>();
    private final Map<Long, Abbrevs> abbrevTables = new HashMap<>();
    private final Map<String, Integer> typeOffsets = new HashMap<>();
    private final Map<String, Integer> variableOffsets = new HashMap<>();
    private final Map<Integer, DwarfType> typeCache = new HashMap<>();
    private int version;

    private GoDwarf(DebugSections sections, DebugSections.Compression compression, byte[] info, byte[] abbrev) {
        this.sections = sections;
        this.compression = compression;
        this.info = info;
        this.abbrevSection = abbrev;
        readUnits();
        index();
    }

    /**
     * The DWARF of {@code elf}; empty if it has none (built with {@code -ldflags=-w} or {@code -s}).
     *
     * @throws GoFormatException if the DWARF is there but corrupt or in a form this reader does not know
     */
    public static Optional<GoDwarf> load(ElfFile elf) {
        DebugSections sections = new DebugSections(elf);
        Optional<DebugSections.Compression> compression = sections.compression();
        if (compression.isEmpty()) return Optional.empty();
        byte[] info = sections.read("info").orElseThrow();
        byte[] abbrev = sections.read("abbrev")
                .orElseThrow(() -> new GoFormatException("the binary has .debug_info but no .debug_abbrev"));
        return Optional.of(new GoDwarf(sections, compression.get(), info, abbrev));
    }

    /** A type by its Go name ("runtime.g", "*runtime.m", "[]*runtime.p", "internal/runtime/atomic.Int32"). */
    public Optional<DwarfType> type(String name) {
        Integer offset = typeOffsets.get(name);
        return offset == null ? Optional.empty() : Optional.of(typeAt(offset));
    }

    /** A global variable with a static address, by its Go name ("runtime.sched"). */
    public Optional<DwarfVariable> variable(String name) {
        Integer offset = variableOffsets.get(name);
        if (offset == null) return Optional.empty();
        Die d = decode(offset);
        long address = staticAddress(d.location);
        if (address < 0 || d.type < 0) return Optional.empty();
        return Optional.of(new DwarfVariable(name, address, typeAt(d.type)));
    }

    /** The highest DWARF version among the compilation units (Go writes 4, and 5 from Go 1.25). */
    public int version() {
        return version;
    }

    /** How the sections were stored: "SHF_COMPRESSED zlib", ".zdebug zlib" or "uncompressed". */
    public String compression() {
        return compression.description;
    }

    /** How many top-level named types the index holds (a typedef and its same-named struct count once). */
    public int typeCount() {
        return typeOffsets.size();
    }

    // ---- units and abbreviations ------------------------------------------------------------------------------

    /** A unit header: where its DIEs lie and how to decode them. {@code end} is exclusive. */
    private static final class Unit {
        final int start, end, firstDie, version, offsetSize, addressSize;
        final Abbrevs abbrevs;
        long strOffsetsBase = -1;

        Unit(int start, int end, int firstDie, int version, int offsetSize, int addressSize, Abbrevs abbrevs) {
            this.start = start;
            this.end = end;
            this.firstDie = firstDie;
            this.version = version;
            this.offsetSize = offsetSize;
            this.addressSize = addressSize;
            this.abbrevs = abbrevs;
        }
    }

    /** One abbreviation: the tag, whether children follow, and the attribute/form pairs. */
    private record Abbrev(int tag, boolean children, int[] attrs, int[] forms, long[] implicitConsts) {}

    /** An abbreviation table, indexed by code (Go numbers them densely from 1). */
    private record Abbrevs(Abbrev[] byCode) {
        Abbrev get(long code, int dieOffset) {
            if (code <= 0 || code >= byCode.length || byCode[(int) code] == null) {
                throw new GoFormatException(String.format(".debug_info: DIE at 0x%x uses unknown abbreviation %d", dieOffset, code));
            }
            return byCode[(int) code];
        }
    }

    private void readUnits() {
        Cursor c = new Cursor(info, 0);
        while (c.pos < info.length) {
            int start = c.pos;
            long length = c.u32();
            int offsetSize = 4;
            if (length == 0xffffffffL) {
                length = c.u64();
                offsetSize = 8;
            } else if (length >= 0xfffffff0L) {
                throw new GoFormatException(String.format(".debug_info: reserved unit length 0x%x at 0x%x", length, start));
            }
            if (length < 0 || length > info.length - c.pos) {
                throw new GoFormatException(String.format(".debug_info: unit at 0x%x runs past the section", start));
            }
            int end = c.pos + (int) length;
            int unitVersion = c.u16();
            if (unitVersion < 2 || unitVersion > 5) {
                throw new GoFormatException(String.format(".debug_info: unit at 0x%x has DWARF version %d, not 2 to 5", start, unitVersion));
            }
            int addressSize;
            long abbrevOffset;
            if (unitVersion == 5) {
                int unitType = c.u8();
                addressSize = c.u8();
                abbrevOffset = c.offset(offsetSize);
                if (unitType != UT_COMPILE && unitType != UT_PARTIAL) {
                    c.pos = end; // type and split units: Go writes none
                    continue;
                }
            } else {
                abbrevOffset = c.offset(offsetSize);
                addressSize = c.u8();
            }
            version = Math.max(version, unitVersion);
            Abbrevs abbrevs = abbrevTables.computeIfAbsent(abbrevOffset, this::readAbbrevs);
            units.add(new Unit(start, end, c.pos, unitVersion, offsetSize, addressSize, abbrevs));
            c.pos = end;
        }
    }

    private Abbrevs readAbbrevs(long offset) {
        if (offset < 0 || offset >= abbrevSection.length) {
            throw new GoFormatException(String.format(".debug_abbrev offset 0x%x lies outside the section", offset));
        }
        Cursor c = new Cursor(abbrevSection, (int) offset);
        Map<Long, Abbrev> byCode = new HashMap<>();
        long maxCode = 0;
        while (c.pos < abbrevSection.length) {
            long code = c.uleb();
            if (code == 0) break;
            int tag = (int) c.uleb();
            boolean children = c.u8() != 0;
            List<int[]> pairs = new ArrayList<>();
            List<Long> consts = new ArrayList<>();
            while (true) {
                int attr = (int) c.uleb(), form = (int) c.uleb();
                if (attr == 0 && form == 0) break;
                pairs.add(new int[] {attr, form});
                consts.add(form == Forms.IMPLICIT_CONST ? c.sleb() : 0L);
            }
            int n = pairs.size();
            int[] attrs = new int[n], forms = new int[n];
            long[] implicit = new long[n];
            for (int i = 0; i < n; i++) {
                attrs[i] = pairs.get(i)[0];
                forms[i] = pairs.get(i)[1];
                implicit[i] = consts.get(i);
            }
            byCode.put(code, new Abbrev(tag, children, attrs, forms, implicit));
            maxCode = Math.max(maxCode, code);
        }
        if (maxCode > 1 << 20) throw new GoFormatException(".debug_abbrev: abbreviation code " + maxCode + " is implausible");
        Abbrev[] table = new Abbrev[(int) maxCode + 1];
        byCode.forEach((code, a) -> table[(int) (long) code] = a);
        return new Abbrevs(table);
    }

    // ---- the index ---------------------------------------------------------------------------------------------

    /** One walk over every DIE: records the offsets of the named types and variables directly under each unit. */
    private void index() {
        Cursor c = new Cursor(info, 0);
        for (Unit u : units) {
            c.pos = u.firstDie;
            int depth = 0;
            while (c.pos < u.end) {
                int dieOffset = c.pos;
                long code = c.uleb();
                if (code == 0) {
                    depth--;
                    continue;
                }
                Abbrev a = u.abbrevs.get(code, dieOffset);
                if (depth == 0) {
                    // The unit's own DIE: decoded for its string-offsets base, which its children's names may need.
                    decodeAttributes(c, u, a, new Die(dieOffset, a.tag, a.children));
                } else if (depth == 1 && indexed(a.tag)) {
                    String name = nameOnly(c, u, a);
                    if (name != null) record(name, a.tag, dieOffset);
                } else {
                    for (int form : a.forms) skip(c, u, form);
                }
                if (a.children) depth++;
            }
        }
    }

    private static boolean indexed(int tag) {
        return switch (tag) {
            case TAG_BASE, TAG_POINTER, TAG_STRUCT, TAG_ARRAY, TAG_TYPEDEF, TAG_SUBROUTINE, TAG_UNSPECIFIED,
                 TAG_VARIABLE -> true;
            default -> false;
        };
    }

    private void record(String name, int tag, int offset) {
        if (tag == TAG_VARIABLE) {
            variableOffsets.putIfAbsent(name, offset);
            return;
        }
        Integer previous = typeOffsets.get(name);
        // A named struct appears twice, as the structure and as a same-named typedef of it: keep the structure.
        if (previous == null || (tag != TAG_TYPEDEF && isTypedef(previous))) {
            typeOffsets.put(name, offset);
        }
    }

    private boolean isTypedef(int offset) {
        return decode(offset).tag == TAG_TYPEDEF;
    }

    /** Reads the attributes of a DIE, returning its name (or null) and decoding nothing else. */
    private String nameOnly(Cursor c, Unit u, Abbrev a) {
        String name = null;
        for (int i = 0; i < a.forms.length; i++) {
            int form = a.forms[i] == Forms.INDIRECT ? (int) c.uleb() : a.forms[i];
            if (a.attrs[i] == AT_NAME) name = string(c, u, form);
            else skip(c, u, form);
        }
        return name;
    }

    // ---- decoding DIEs -----------------------------------------------------------------------------------------

    /** The attributes this reader uses, of one DIE; -1 (or null) where absent. {@code end} is where its children start. */
    static final class Die {
        final int offset, tag;
        final boolean hasChildren;
        int end;
        String name;
        long byteSize = -1, count = -1, upperBound = -1, memberLocation = -1;
        int type = -1;
        byte[] location;

        Die(int offset, int tag, boolean hasChildren) {
            this.offset = offset;
            this.tag = tag;
            this.hasChildren = hasChildren;
        }
    }

    Die decode(int offset) {
        Unit u = unitAt(offset);
        Cursor c = new Cursor(info, offset);
        long code = c.uleb();
        if (code == 0) throw new GoFormatException(String.format(".debug_info: 0x%x is a null entry, not a DIE", offset));
        Abbrev a = u.abbrevs.get(code, offset);
        Die d = new Die(offset, a.tag, a.children);
        decodeAttributes(c, u, a, d);
        return d;
    }

    /** The DIEs directly below {@code parent}, decoded; their own children are skipped. */
    List<Die> children(Die parent) {
        List<Die> out = new ArrayList<>();
        if (!parent.hasChildren) return out;
        Unit u = unitAt(parent.offset);
        Cursor c = new Cursor(info, parent.end);
        int depth = 0;
        while (c.pos < u.end) {
            int dieOffset = c.pos;
            long code = c.uleb();
            if (code == 0) {
                if (depth == 0) break;
                depth--;
                continue;
            }
            Abbrev a = u.abbrevs.get(code, dieOffset);
            if (depth == 0) {
                Die d = new Die(dieOffset, a.tag, a.children);
                decodeAttributes(c, u, a, d);
                out.add(d);
            } else {
                for (int form : a.forms) skip(c, u, form);
            }
            if (a.children) depth++;
        }
        return out;
    }

    private void decodeAttributes(Cursor c, Unit u, Abbrev a, Die d) {
        for (int i = 0; i < a.forms.length; i++) {
            int form = a.forms[i] == Forms.INDIRECT ? (int) c.uleb() : a.forms[i];
            switch (a.attrs[i]) {
                case AT_NAME -> d.name = string(c, u, form);
                case AT_TYPE -> d.type = reference(c, u, form);
                case AT_BYTE_SIZE -> d.byteSize = constant(c, u, form, a.implicitConsts[i]);
                case AT_COUNT -> d.count = constant(c, u, form, a.implicitConsts[i]);
                case AT_UPPER_BOUND -> d.upperBound = constant(c, u, form, a.implicitConsts[i]);
                case AT_MEMBER_LOCATION -> d.memberLocation = memberLocation(c, u, form, a.implicitConsts[i]);
                case AT_LOCATION -> {
                    d.location = block(c, u, form);
                    if (d.location == null) skip(c, u, form); // a location list: not a global's
                }
                case AT_STR_OFFSETS_BASE -> u.strOffsetsBase = constant(c, u, form, a.implicitConsts[i]);
                default -> skip(c, u, form);
            }
        }
        d.end = c.pos;
    }

    private Unit unitAt(int offset) {
        int lo = 0, hi = units.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Unit u = units.get(mid);
            if (offset < u.start) hi = mid - 1;
            else if (offset >= u.end) lo = mid + 1;
            else if (offset >= u.firstDie) return u;
            else break;
        }
        throw new GoFormatException(String.format(".debug_info: reference 0x%x is not inside any unit's DIEs", offset));
    }

    // ---- attribute values --------------------------------------------------------------------------------------

    private String string(Cursor c, Unit u, int form) {
        return switch (form) {
            case Forms.STRING -> c.cString();
            case Forms.STRP -> stringAt(strSection(), c.offset(u.offsetSize), ".debug_str");
            case Forms.LINE_STRP -> stringAt(lineStrSection(), c.offset(u.offsetSize), ".debug_line_str");
            case Forms.STRX, Forms.GNU_STR_INDEX -> indexedString(u, c.uleb());
            case Forms.STRX1 -> indexedString(u, c.u8());
            case Forms.STRX2 -> indexedString(u, c.u16());
            case Forms.STRX3 -> indexedString(u, c.u24());
            case Forms.STRX4 -> indexedString(u, c.u32());
            default -> {
                skip(c, u, form);
                yield null;
            }
        };
    }

    private String indexedString(Unit u, long index) {
        if (strOffsets == null) strOffsets = sections.read("str_offsets").orElse(new byte[0]);
        // Without DW_AT_str_offsets_base (GNU split DWARF), the table's 8-byte DWARF 5 header is the base.
        long base = u.strOffsetsBase >= 0 ? u.strOffsetsBase : 8;
        long at = base + index * u.offsetSize;
        if (at < 0 || at + u.offsetSize > strOffsets.length) {
            throw new GoFormatException(".debug_str_offsets: index " + index + " lies outside the section");
        }
        return stringAt(strSection(), new Cursor(strOffsets, (int) at).offset(u.offsetSize), ".debug_str");
    }

    private byte[] strSection() {
        if (str == null) str = sections.read("str").orElse(new byte[0]);
        return str;
    }

    private byte[] lineStrSection() {
        if (lineStr == null) lineStr = sections.read("line_str").orElse(new byte[0]);
        return lineStr;
    }

    private static String stringAt(byte[] section, long offset, String name) {
        if (offset < 0 || offset >= section.length) {
            throw new GoFormatException(String.format("%s offset 0x%x lies outside the section", name, offset));
        }
        return new Cursor(section, (int) offset).cString();
    }

    /** A reference as an offset into .debug_info, or -1 for forms that point elsewhere (type units, supplementary files). */
    private int reference(Cursor c, Unit u, int form) {
        long target = switch (form) {
            case Forms.REF1 -> u.start + c.u8();
            case Forms.REF2 -> u.start + c.u16();
            case Forms.REF4 -> u.start + c.u32();
            case Forms.REF8 -> u.start + c.u64();
            case Forms.REF_UDATA -> u.start + c.uleb();
            case Forms.REF_ADDR -> c.offset(u.version == 2 ? u.addressSize : u.offsetSize);
            default -> {
                skip(c, u, form);
                yield -1;
            }
        };
        if (target >= info.length || target < -1) {
            throw new GoFormatException(String.format(".debug_info: reference 0x%x lies outside the section", target));
        }
        return (int) target;
    }

    private long constant(Cursor c, Unit u, int form, long implicit) {
        return switch (form) {
            case Forms.DATA1 -> c.u8();
            case Forms.DATA2 -> c.u16();
            case Forms.DATA4 -> c.u32();
            case Forms.DATA8 -> c.u64();
            case Forms.UDATA -> c.uleb();
            case Forms.SDATA -> c.sleb();
            case Forms.IMPLICIT_CONST -> implicit;
            case Forms.SEC_OFFSET -> c.offset(u.offsetSize);
            default -> {
                skip(c, u, form);
                yield -1;
            }
        };
    }

    /** A member's offset: a constant (what Go writes), or the DWARF 2 expression {@code DW_OP_plus_uconst n}. */
    private long memberLocation(Cursor c, Unit u, int form, long implicit) {
        byte[] expr = block(c, u, form);
        if (expr == null) return constant(c, u, form, implicit);
        if (expr.length > 1 && (expr[0] & 0xff) == DW_OP_PLUS_UCONST) return new Cursor(expr, 1).uleb();
        return -1;
    }

    /** The bytes of a block or expression form; null (reading nothing) for any other form. */
    private static byte[] block(Cursor c, Unit u, int form) {
        long length = switch (form) {
            case Forms.BLOCK1 -> c.u8();
            case Forms.BLOCK2 -> c.u16();
            case Forms.BLOCK4 -> c.u32();
            case Forms.BLOCK, Forms.EXPRLOC -> c.uleb();
            default -> -1;
        };
        if (length < 0) return null;
        return c.bytes(length);
    }

    /** The address of a location that is exactly {@code DW_OP_addr a} (a global variable), or -1. */
    private static long staticAddress(byte[] location) {
        if (location == null || location.length != 9 || (location[0] & 0xff) != DW_OP_ADDR) return -1;
        return new Cursor(location, 1).u64();
    }

    private static void skip(Cursor c, Unit u, int form) {
        switch (form) {
            case Forms.FLAG_PRESENT, Forms.IMPLICIT_CONST -> { }
            case Forms.DATA1, Forms.REF1, Forms.FLAG, Forms.STRX1, Forms.ADDRX1 -> c.pos += 1;
            case Forms.DATA2, Forms.REF2, Forms.STRX2, Forms.ADDRX2 -> c.pos += 2;
            case Forms.STRX3, Forms.ADDRX3 -> c.pos += 3;
            case Forms.DATA4, Forms.REF4, Forms.REF_SUP4, Forms.STRX4, Forms.ADDRX4 -> c.pos += 4;
            case Forms.DATA8, Forms.REF8, Forms.REF_SIG8, Forms.REF_SUP8 -> c.pos += 8;
            case Forms.DATA16 -> c.pos += 16;
            case Forms.ADDR -> c.pos += u.addressSize;
            case Forms.REF_ADDR -> c.pos += u.version == 2 ? u.addressSize : u.offsetSize;
            case Forms.STRP, Forms.LINE_STRP, Forms.SEC_OFFSET, Forms.STRP_SUP, Forms.GNU_REF_ALT,
                 Forms.GNU_STRP_ALT -> c.pos += u.offsetSize;
            case Forms.UDATA, Forms.SDATA, Forms.REF_UDATA, Forms.STRX, Forms.ADDRX, Forms.LOCLISTX, Forms.RNGLISTX,
                 Forms.GNU_ADDR_INDEX, Forms.GNU_STR_INDEX -> c.uleb();
            case Forms.STRING -> c.skipCString();
            case Forms.BLOCK1, Forms.BLOCK2, Forms.BLOCK4, Forms.BLOCK, Forms.EXPRLOC -> block(c, u, form);
            case Forms.INDIRECT -> skip(c, u, (int) c.uleb());
            default -> throw new GoFormatException(String.format(".debug_info: unknown attribute form 0x%x", form));
        }
        if (c.pos > c.data.length) throw new GoFormatException(".debug_info: an attribute runs past the section");
    }

    // ---- types -------------------------------------------------------------------------------------------------

    DwarfType typeAt(int offset) {
        DwarfType cached = typeCache.get(offset);
        if (cached != null) return cached;
        Die d = decode(offset);
        DwarfType t;
        if (d.tag == TAG_TYPEDEF && d.type >= 0 && d.name != null && d.name.equals(decode(d.type).name)) {
            t = typeAt(d.type); // Go's typedef that names a struct: the struct is the type
        } else {
            t = new DwarfType(this, d, unitAt(offset).addressSize);
        }
        typeCache.put(offset, t);
        return t;
    }

    /** The number of elements of an array DIE: its subrange's count, or upper bound + 1; -1 if it has neither. */
    long arrayCount(Die array) {
        for (Die child : children(array)) {
            if (child.tag != TAG_SUBRANGE) continue;
            if (child.count >= 0) return child.count;
            if (child.upperBound >= 0) return child.upperBound + 1;
        }
        return -1;
    }

    // ---- bytes -------------------------------------------------------------------------------------------------

    /** A position in a little-endian byte array. */
    private static final class Cursor {
        final byte[] data;
        int pos;

        Cursor(byte[] data, int pos) {
            this.data = data;
            this.pos = pos;
        }

        int u8() {
            check(1);
            return data[pos++] & 0xff;
        }

        int u16() {
            check(2);
            int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8;
            pos += 2;
            return v;
        }

        int u24() {
            check(3);
            int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16;
            pos += 3;
            return v;
        }

        long u32() {
            check(4);
            long v = (data[pos] & 0xffL) | (data[pos + 1] & 0xffL) << 8 | (data[pos + 2] & 0xffL) << 16
                    | (data[pos + 3] & 0xffL) << 24;
            pos += 4;
            return v;
        }

        long u64() {
            long lo = u32();
            return lo | u32() << 32;
        }

        long offset(int size) {
            return size == 8 ? u64() : size == 4 ? u32() : size == 2 ? u16() : u8();
        }

        long uleb() {
            long result = 0;
            for (int shift = 0; ; shift += 7) {
                int b = u8();
                if (shift < 64) result |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) return result;
            }
        }

        long sleb() {
            long result = 0;
            int shift = 0, b;
            do {
                b = u8();
                if (shift < 64) result |= (long) (b & 0x7f) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
            return result;
        }

        String cString() {
            int from = pos;
            skipCString();
            return new String(data, from, pos - 1 - from, StandardCharsets.UTF_8);
        }

        void skipCString() {
            while (pos < data.length && data[pos] != 0) pos++;
            check(1);
            pos++;
        }

        byte[] bytes(long length) {
            if (length < 0 || length > data.length - pos) throw new GoFormatException("DWARF: a block runs past its section");
            byte[] out = new byte[(int) length];
            System.arraycopy(data, pos, out, 0, (int) length);
            pos += (int) length;
            return out;
        }

        private void check(int n) {
            if (pos > data.length - n) throw new GoFormatException("DWARF: a value runs past the end of its section");
        }
    }
}
