//go:build unix && !linux

package redistest

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the server in its own process group, so that Kill also
// reaches the children it forks (AOF rewrite). Outside Linux there is no
// parent-death signal: a test binary that dies without running its cleanups
// leaves the server running until it is killed by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
