//go:build !linux

package bench

// resetPeakRSS cannot reset the peak on this system.
func resetPeakRSS() bool { return false }

// peakRSS is not measured on this system.
func peakRSS() (int64, bool) { return 0, false }

// currentRSS is not measured on this system.
func currentRSS() (int64, bool) { return 0, false }
