//go:build unix

package workers

import (
	"os/exec"
	"syscall"
)

// configureProcess runs the worker in its own process group and kills the
// whole group on timeout, so children of a shell script die too.
func configureProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// processAlive reports whether a process with this pid exists (a process
// of another user counts: EPERM).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
