package dev.goemu.hooks;

import dev.goemu.syscalls.GuestFault;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Walks a goroutine's (or g0's) stack the way Go's traceback does: the pcsp table gives each frame's size, so the
 * return address is at SP + spDelta and the caller's SP just above it. Calls inlined at a pc appear as frames of
 * their own, innermost first. The walk ends at a function that begins a stack (goexit, mstart, rt0_go...).
 */
public final class GoStack {
    /** One frame: {@code pc} is the frame's pc (a return address for callers), {@code sp} its SP at that pc. */
    public record Frame(long pc, long sp, String function, Optional<SourceLine> line, boolean inlined) {}

    /** Functions below which there is no Go caller (runtime/traceback.go stops at the same ones, by funcID). */
    private static final Set<String> TOP_OF_STACK = Set.of("runtime.goexit", "runtime.mstart", "runtime.rt0_go",
            "runtime.mcall", "runtime.morestack", "runtime.systemstack", "_rt0_amd64", "_rt0_amd64_linux");

    private GoStack() {}

    /** Frames from (pc, sp) outwards, at most {@code max}. Stops early at unknown code or unreadable stack. */
    public static List<Frame> unwind(GoSymbols symbols, Guest guest, long pc, long sp, int max) {
        List<Frame> out = new ArrayList<>();
        boolean innermost = true;
        while (out.size() < max) {
            // A caller's pc is a return address: the call itself is the instruction before it.
            long at = innermost ? pc : pc - 1;
            List<GoSymbols.Frame> frames = symbols.frames(at);
            if (frames.isEmpty()) {
                out.add(new Frame(pc, sp, "?", Optional.empty(), false));
                break;
            }
            for (GoSymbols.Frame f : frames) {
                if (out.size() < max) out.add(new Frame(pc, sp, f.function(), f.line(), f.inlined()));
            }
            OptionalInt delta = symbols.spDelta(at);
            if (TOP_OF_STACK.contains(frames.getLast().function()) || delta.isEmpty()) break;
            try {
                long ret = guest.readLong(sp + delta.getAsInt());
                sp += delta.getAsInt() + 8;
                pc = ret;
            } catch (GuestFault e) {
                break;
            }
            if (pc == 0) break;
            innermost = false;
        }
        return out;
    }
}
