package bench

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// resetPeakRSS resets the process's peak resident set size to its current
// one (Linux 4.0 and later: "5" to /proc/self/clear_refs), so that the
// next peakRSS measures one phase of the run. It reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the peak resident set size in bytes: VmHWM of
// /proc/self/status, or getrusage's maxrss if that cannot be read.
func peakRSS() (int64, bool) {
	if kb, ok := statusKB("VmHWM:"); ok {
		return kb << 10, true
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Maxrss << 10, true // kilobytes on Linux
}

// currentRSS returns the resident set size in bytes (VmRSS).
func currentRSS() (int64, bool) {
	kb, ok := statusKB("VmRSS:")
	return kb << 10, ok
}

// statusKB reads a field of /proc/self/status given in kB.
func statusKB(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}
