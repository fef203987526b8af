package auth

import "syscall"

// lowerThreadPriority sets the calling OS thread's nice value to 10 (Linux applies
// setpriority with a thread id to that thread alone). Failure only costs fairness.
func lowerThreadPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10)
}
