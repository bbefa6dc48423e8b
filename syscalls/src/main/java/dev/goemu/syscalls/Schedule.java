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
     * PCT with a starvation guard: a thread still runnable after {@link #PATIENCE} decisions in a row while others
     * wait drops to the lowest priority above the change points, since a Go program's spinning waits (sysmon, a
     * spinning M, a spin lock) would otherwise never let a lower-priority thread run.
     */
    static final class Pct extends Schedule {
        static final int PATIENCE = 64;
        private final Map<Task, Long> priority = new HashMap<>();
        /** Decision numbers at which the running thread's priority drops to depth-1, ..., 1, in order. */
        private final long[] changePoints;
        private final int depth;
        private long steps;
        private Task last;
        private int streak;

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
                if (prev == last && queue.size() > 1 && queue.contains(prev) && ++streak >= PATIENCE) {
                    priority.put(prev, (long) depth);
                    streak = 0;
                }
            }
            Task best = null;
            long bestPriority = Long.MIN_VALUE;
            for (Task t : queue) {
                long p = priority.computeIfAbsent(t, x -> depth + 1 + random.nextLong(Long.MAX_VALUE - depth - 1));
                if (p > bestPriority) {
                    best = t;
                    bestPriority = p;
                }
            }
            if (best != last) streak = 0;
            last = best;
            priority.keySet().removeIf(t -> t.state == Task.State.EXITED);
            return take(queue, best);
        }
    }
}
