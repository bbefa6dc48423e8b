package dev.goemu.syscalls;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A deterministic scheduler's choices: which runnable thread runs next and for how many translated blocks. Asked
 * only at deterministic points (a syscall that stopped the CPU, the end of a slice), and drawing only from the
 * seed, so the same seed gives the same interleaving.
 */
abstract class Schedule {
    /** Slices are 1 to this many blocks (on average about 65 µs of virtual time): short enough that a few
     *  thousand loop iterations of two threads interleave, long enough that switching costs a few percent. */
    static final int MAX_SLICE_BLOCKS = 65_536;

    final SplittableRandom random;

    Schedule(SplittableRandom random) {
        this.random = random;
    }

    static Schedule of(Determinism.Strategy strategy, SplittableRandom random) {
        return switch (strategy) {
            case Determinism.Strategy.Random r -> new Uniform(random);
            case Determinism.Strategy.Pct p -> new Pct(random, p.depth(), p.steps());
        };
    }

    /** Takes the thread to run out of {@code queue} (not empty); {@code prev} ran last, and is in it if still runnable. */
    abstract Task choose(ArrayDeque<Task> queue, Task prev);

    /** The next slice's length in blocks. */
    long slice() {
        return 1 + random.nextInt(MAX_SLICE_BLOCKS);
    }

    static Task take(ArrayDeque<Task> queue, Task t) {
        queue.removeFirstOccurrence(t);
        return t;
    }

    /** Every runnable thread equally likely. */
    static final class Uniform extends Schedule {
        Uniform(SplittableRandom random) {
            super(random);
        }

        @Override
        Task choose(ArrayDeque<Task> queue, Task prev) {
            int i = random.nextInt(queue.size());
            for (Task t : queue) if (i-- == 0) return take(queue, t);
            throw new AssertionError();
        }
    }

    /**
     * PCT with a starvation guard: once a runnable thread has waited {@link #PATIENCE} decisions without running,
     * every thread chosen over it drops below all others (the change points' lowered ones included, each drop lower
     * than the last) until a starving thread runs, since a Go program's spinning waits (sysmon, idle Ms, the GC
     * waiting for its workers) would otherwise starve the threads they wait for. The guard used to watch only the
     * running thread, dropping it to the lowest priority above the change points after as many decisions in a row:
     * a spinner waiting for a thread a change point had lowered then tied with the other spinners there, and two
     * threads handing off to each other never ran 64 decisions in a row (gcchurn ran for minutes).
     */
    static final class Pct extends Schedule {
        static final int PATIENCE = 64;
        private final Map<Task, Long> priority = new HashMap<>();
        /** The decision since which each runnable thread has waited without running. */
        private final Map<Task, Long> waitingSince = new HashMap<>();
        /** Decision numbers at which the running thread's priority drops to depth-1, ..., 1, in order. */
        private final long[] changePoints;
        private final int depth;
        private long steps;
        /** The starvation guard's next priority: below every other, the change points' (depth-1 to 1) included. */
        private long floor;

        Pct(SplittableRandom random, int depth, int maxSteps) {
            super(random);
            this.depth = depth;
            this.changePoints = new long[depth - 1];
            for (int i = 0; i < changePoints.length; i++) changePoints[i] = 1 + random.nextInt(maxSteps);
        }

        @Override
        Task choose(ArrayDeque<Task> queue, Task prev) {
            steps++;
            if (prev != null) {
                for (int i = 0; i < changePoints.length; i++) {
                    if (changePoints[i] == steps) priority.put(prev, (long) (depth - 1 - i));
                }
            }
            boolean starving = false;
            for (Task t : queue) starving |= steps - waitingSince.computeIfAbsent(t, x -> steps) >= PATIENCE;
            Task best = highest(queue);
            while (starving && steps - waitingSince.get(best) < PATIENCE) {
                priority.put(best, floor--);
                best = highest(queue);
            }
            waitingSince.remove(best);
            priority.keySet().removeIf(t -> t.state == Task.State.EXITED);
            waitingSince.keySet().removeIf(t -> t.state == Task.State.EXITED);
            return take(queue, best);
        }

        /** The runnable thread of highest priority; a new thread gets a random one above the change points'. */
        private Task highest(ArrayDeque<Task> queue) {
            Task best = null;
            long bestPriority = Long.MIN_VALUE;
            for (Task t : queue) {
                long p = priority.computeIfAbsent(t, x -> depth + 1 + random.nextLong(Long.MAX_VALUE - depth - 1));
                if (p > bestPriority) {
                    best = t;
                    bestPriority = p;
                }
            }
            return best;
        }
    }
}
