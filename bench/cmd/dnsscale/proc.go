//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memKB reads a Vm* field (VmRSS, VmHWM) of /proc/self/status, in kB.
func memKB(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/self/status %s %q: %w", field, val, err)
		}
		return kb, nil
	}
	return 0, fmt.Errorf("/proc/self/status: no %s", field)
}

// mem is the process's memory at one moment.
type mem struct {
	heapInuse uint64 // bytes, after a GC
	rss, hwm  int64  // kB
}

func (m mem) String() string {
	return fmt.Sprintf("heap in use %s, RSS %s, peak RSS %s", mib(m.heapInuse), mib(uint64(m.rss)<<10), mib(uint64(m.hwm)<<10))
}

// measureMem collects garbage, then reads the Go heap and the RSS.
func measureMem() mem {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := mem{heapInuse: ms.HeapInuse}
	m.rss, _ = memKB("VmRSS")
	m.hwm, _ = memKB("VmHWM")
	return m
}

// resetPeak returns freed memory to the OS and resets VmHWM to the current
// RSS (Linux 4.0 and later), so that the next reading is the peak of what
// runs in between. It reports whether the kernel allowed it.
func resetPeak() bool {
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// mib formats a size in MiB, or KiB under 1 MiB.
func mib(b uint64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// dur rounds a duration for printing.
func dur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}
