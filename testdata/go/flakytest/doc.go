// Package flakytest holds a flaky test for `goemu explore` (see flaky_test.go); it is built with
// `go test -c`, and this file only gives the package a non-test file so that `go build ./...` accepts it.
package flakytest
