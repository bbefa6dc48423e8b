package dev.goemu.unicorn;

import java.lang.foreign.MemorySegment;

/**
 * A CPU-state snapshot (uc_context) bound to the engine that made it: registers only (Unicorn's default context
 * mode), not memory. Freed by {@link #close()} or when the engine closes.
 */
public final class Context implements AutoCloseable {
    private final Unicorn owner;
    private final MemorySegment ctx;
    private boolean closed;

    Context(Unicorn owner, MemorySegment ctx) {
        this.owner = owner;
        this.ctx = ctx;
    }

    /** uc_context_save: copies the engine's current CPU state into this context. */
    public void save() {
        checkOpen();
        owner.contextSave(ctx);
    }

    /** uc_context_restore: loads this context's CPU state into the engine. */
    public void restore() {
        checkOpen();
        owner.contextRestore(ctx);
    }

    /** uc_context_reg_read: a register of at most 8 bytes as this snapshot holds it. */
    public long reg(int regId) {
        checkOpen();
        return owner.contextReg(ctx, regId);
    }

    /** uc_context_free; idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.contextFree(this, ctx);
    }

    MemorySegment handle() {
        return ctx;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("Context is closed");
        if (owner.isClosed()) throw new IllegalStateException("Unicorn engine of this context is closed");
    }
}
