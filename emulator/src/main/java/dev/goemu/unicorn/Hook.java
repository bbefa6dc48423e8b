package dev.goemu.unicorn;

/** A registered hook; {@link #close()} removes it (uc_hook_del). Hooks also end with their engine. */
public final class Hook implements AutoCloseable {
    private final Unicorn owner;
    private final long handle;
    private boolean closed;

    Hook(Unicorn owner, long handle) {
        this.owner = owner;
        this.handle = handle;
    }

    /** uc_hook_del; idempotent, and a no-op once the engine is closed. The upcall stub lives until the engine closes. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.hookDel(handle);
    }
}
