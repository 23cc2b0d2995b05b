//go:build !unix

package workers

import "os/exec"

// configureProcess keeps exec's default: the worker process is killed on
// timeout.
func configureProcess(cmd *exec.Cmd) {}
