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
