package redistest

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the server in its own process group, so that Kill also
// reaches the children it forks (AOF rewrite), and asks the kernel to kill it
// when the test binary dies, even without running its cleanups (a panic, a
// -timeout, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
