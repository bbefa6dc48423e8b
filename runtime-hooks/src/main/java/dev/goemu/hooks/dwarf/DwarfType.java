package dev.goemu.hooks.dwarf;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A type from Go's DWARF, named as Go names it. Decoded on first use, members included, so types that refer to each
 * other ({@code runtime.g} and {@code runtime.m}) cost nothing until followed.
 */
public final class DwarfType {
    /** What the DWARF tag says; Go's slices, strings and interfaces are {@link #STRUCT}s. */
    public enum Kind { BASE, POINTER, STRUCT, ARRAY, TYPEDEF, FUNC, UNSPECIFIED, OTHER }

    private final GoDwarf dwarf;
    private final GoDwarf.Die die;
    private final Kind kind;
    private final int pointerSize;
    private List<DwarfField> fields;
    private long count = Long.MIN_VALUE;

    DwarfType(GoDwarf dwarf, GoDwarf.Die die, int pointerSize) {
        this.dwarf = dwarf;
        this.die = die;
        this.pointerSize = pointerSize;
        this.kind = switch (die.tag) {
            case GoDwarf.TAG_BASE -> Kind.BASE;
            case GoDwarf.TAG_POINTER -> Kind.POINTER;
            case GoDwarf.TAG_STRUCT -> Kind.STRUCT;
            case GoDwarf.TAG_ARRAY -> Kind.ARRAY;
            case GoDwarf.TAG_TYPEDEF -> Kind.TYPEDEF;
            case GoDwarf.TAG_SUBROUTINE -> Kind.FUNC;
            case GoDwarf.TAG_UNSPECIFIED -> Kind.UNSPECIFIED;
            default -> Kind.OTHER;
        };
    }

    /** The Go name: "runtime.g", "*runtime.m", "[256]runtime.guintptr", "uintptr"; "" if the DIE has none. */
    public String name() {
        return die.name == null ? "" : die.name;
    }

    public Kind kind() {
        return kind;
    }

    /** The size in bytes; a typedef's is its target's, an array without one is count × element size; -1 if unknown. */
    public long size() {
        if (die.byteSize >= 0) return die.byteSize;
        return switch (kind) {
            case POINTER -> pointerSize;
            case TYPEDEF -> element().map(DwarfType::size).orElse(-1L);
            case ARRAY -> count() < 0 ? -1 : element().map(e -> e.size() < 0 ? -1 : e.size() * count()).orElse(-1L);
            default -> -1;
        };
    }

    /** The members of a struct (of a typedef's target), in declaration order; empty for other kinds. */
    public List<DwarfField> fields() {
        if (kind == Kind.TYPEDEF) return element().map(DwarfType::fields).orElse(List.of());
        if (fields == null) {
            List<DwarfField> out = new ArrayList<>();
            if (kind == Kind.STRUCT) {
                for (GoDwarf.Die child : dwarf.children(die)) {
                    if (child.tag != GoDwarf.TAG_MEMBER || child.type < 0) continue;
                    // No location means offset 0 (as for a union's members); Go always writes one.
                    out.add(new DwarfField(child.name == null ? "" : child.name, Math.max(0, child.memberLocation),
                            dwarf.typeAt(child.type)));
                }
            }
            fields = List.copyOf(out);
        }
        return fields;
    }

    public Optional<DwarfField> field(String name) {
        return fields().stream().filter(f -> f.name().equals(name)).findFirst();
    }

    /** What a pointer points to, an array holds or a typedef names; empty otherwise (and for unsafe.Pointer). */
    public Optional<DwarfType> element() {
        return switch (kind) {
            case POINTER, ARRAY, TYPEDEF -> die.type < 0 ? Optional.empty() : Optional.of(dwarf.typeAt(die.type));
            default -> Optional.empty();
        };
    }

    /** The number of elements of an array; -1 for other kinds or if the DWARF does not say. */
    public long count() {
        if (kind != Kind.ARRAY) return -1;
        if (count == Long.MIN_VALUE) count = dwarf.arrayCount(die);
        return count;
    }

    @Override
    public String toString() {
        return name();
    }
}
