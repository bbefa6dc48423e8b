// flakytest: TestFlaky assumes a worker goroutine finishes within a short sleep, which holds natively
// almost always (the worker needs a fraction of it, on its own core) but not when other work of the process
// (here a background goroutine, as the rest of a test suite would be) gets the CPU first: the classic test
// that passes on an idle machine and fails on a loaded one. TestFixed is the correct version: it waits for
// the worker instead of for a duration. Run with -test.run '^TestFlaky$' or '^TestFixed$'.
package flakytest

import (
	"sync/atomic"
	"testing"
	"time"
)

// spin stands for a computation of n steps (the code under test, or the process's other work).
func spin(n int) int {
	sum := 0
	for i := 0; i < n; i++ {
		sum += i % 7
	}
	return sum
}

const workSteps, backgroundSteps = 20000, 200000

var sink int64

func TestFlaky(t *testing.T) {
	var done int32
	go func() { atomic.StoreInt64(&sink, int64(spin(backgroundSteps))) }()
	go func() {
		spin(workSteps)
		atomic.StoreInt32(&done, 1)
	}()
	time.Sleep(100 * time.Microsecond) // "the worker is done by now"
	if atomic.LoadInt32(&done) == 0 {
		t.Fatal("the worker has not finished after the sleep")
	}
}

func TestFixed(t *testing.T) {
	done := make(chan struct{})
	go func() { atomic.StoreInt64(&sink, int64(spin(backgroundSteps))) }()
	go func() {
		spin(workSteps)
		close(done)
	}()
	<-done
}
