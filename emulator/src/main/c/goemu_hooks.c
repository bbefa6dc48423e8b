/*
 * goemu_hooks.c: the only native code goemu carries besides Unicorn itself.
 *
 * Why it exists: green-thread time slicing needs Unicorn to stop at a safe point. Stopping asynchronously
 * (uc_emu_stop from another thread, or uc_emu_start's timeout/count) corrupted guest state or cost 2.5x; a Java
 * block hook costs ~150 ns per block. This C block hook costs a few ns: it checks a flag that any Java thread may
 * set and, if set, stops the engine from inside the hook, which is synchronous (at a block boundary) and safe.
 * uc_emu_stop is called through a pointer Java stores, so this needs no Unicorn header and no link to libunicorn.
 */
#include <stdint.h>

struct goemu_preempt {                 /* allocated and laid out by dev.goemu.unicorn.Preemption */
    volatile int32_t requested;        /* set by any Java thread, cleared here */
    int32_t fired;                     /* set here, read and cleared by Java on the engine thread */
    int (*uc_emu_stop)(void *uc);
};

void goemu_preempt_hook(void *uc, uint64_t addr, uint32_t size, void *user_data) {
    struct goemu_preempt *p = user_data;
    (void)addr; (void)size;
    if (__builtin_expect(p->requested != 0, 0)) {
        p->requested = 0;
        p->fired = 1;
        p->uc_emu_stop(uc);
    }
}
