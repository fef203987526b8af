//go:build !linux

package auth

// lowerThreadPriority is a no-op where threads cannot be reniced one by one.
func lowerThreadPriority() {}
