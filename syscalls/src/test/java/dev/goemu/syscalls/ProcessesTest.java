package dev.goemu.syscalls;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process table's ids, families, zombies and waits, and Linux's wait status words. */
class ProcessesTest {
    private final Processes table = new Processes();
    private final GuestProcess root = table.root(1000, 1000, 1000, "/");

    @Test
    void statusWordsAreLinuxs() {
        assertEquals(0x0300, WaitStatus.exited(3));
        assertEquals(9, WaitStatus.killed(9, false));
        assertEquals(0x8b, WaitStatus.killed(11, true));
        assertTrue(WaitStatus.signaled(0x8b));
        assertFalse(WaitStatus.signaled(0x0300));
        assertEquals(11, WaitStatus.termSignal(0x8b));
        assertEquals(3, WaitStatus.childCode(0x8b));
        assertEquals(2, WaitStatus.childCode(9));
        assertEquals(1, WaitStatus.childCode(0x0300));
        assertEquals(3, WaitStatus.childStatus(0x0300));
        assertEquals(130, GuestProcess.shellStatus(WaitStatus.killed(2, false)));
        assertEquals(3, GuestProcess.shellStatus(WaitStatus.exited(3)));
    }

    @Test
    void idsStartAbovePidMaxAndNeverRepeat() {
        GuestProcess a = table.child(root, 17), b = table.child(root, 17);
        assertEquals(Processes.FIRST_ID, a.pid);
        assertEquals(Processes.FIRST_ID + 1, b.pid);
        assertEquals(Processes.FIRST_ID + 2, table.newId());
        assertEquals(root.pgid, a.pgid);
        assertSame(a, table.find(a.pid));
    }

    @Test
    void aChildIsAZombieUntilReaped() {
        GuestProcess c = table.child(root, 17);
        assertSame(Processes.Reaped.NOT_YET, table.reap(root, Processes.P_ALL, 0, false));
        table.ended(c, WaitStatus.exited(3));
        assertEquals(new Processes.Reaped(c.pid, 0x300), table.reap(root, Processes.P_PID, c.pid, true)); // WNOWAIT
        assertEquals(new Processes.Reaped(c.pid, 0x300), table.reap(root, Processes.P_ALL, 0, false));
        assertSame(Processes.Reaped.NO_CHILD, table.reap(root, Processes.P_ALL, 0, false));
        assertNull(table.find(c.pid));
    }

    @Test
    void waitsSelectByPidAndGroup() {
        GuestProcess a = table.child(root, 17), b = table.child(root, 17);
        b.pgid = b.pid;
        table.ended(a, WaitStatus.exited(0));
        assertSame(Processes.Reaped.NOT_YET, table.reap(root, Processes.P_PGID, b.pid, false));
        assertSame(Processes.Reaped.NO_CHILD, table.reap(root, Processes.P_PID, 12345, false));
        assertEquals(a.pid, table.reap(root, Processes.P_PGID, root.pgid, false).pid());
    }

    @Test
    void orphansAreReapedByNobodyAndForgottenWhenTheyEnd() {
        GuestProcess c = table.child(root, 17), g = table.child(c, 17);
        table.ended(c, WaitStatus.exited(0));
        assertNull(g.parent);
        table.ended(g, WaitStatus.killed(9, false));
        assertNull(table.find(g.pid));
        assertTrue(g.reaped);
    }

    @Test
    void aNativeChildTakesItsHostPid() {
        GuestProcess c = table.child(root, 17);
        int old = c.pid;
        table.becameNative(c, 4242);
        assertNull(table.find(old));
        assertSame(c, table.find(4242));
        assertEquals(4242, c.hostPid());
    }
}
