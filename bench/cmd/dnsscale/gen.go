//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/anyctl/anyctl/bench/gslbscale"
)

// database returns the path of the cached database for the options,
// generating it first in a child process (so that the writer's memory does
// not count in this process's peak RSS) when the cache lacks it.
func database(o options) (string, error) {
	path, err := gslbscale.GeoDBPath(o.networks, o.locations, o.seed)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		st, _ := os.Stat(path)
		fmt.Printf("%-26s %s (%s, cached)\n", "geoip db", path, mib(uint64(st.Size())))
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cached GeoIP database: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("generating the GeoIP database: %w", err)
	}
	cmd := exec.Command(self, "-gen-only",
		"-networks", strconv.Itoa(o.networks), "-locations", strconv.Itoa(o.locations),
		"-seed", strconv.FormatUint(o.seed, 10))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("generating the GeoIP database (%s -gen-only): %w", self, err)
	}
	took := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("generated GeoIP database: %w", err)
	}
	fmt.Printf("%-26s %s (%s)\n", "geoip db", path, mib(uint64(st.Size())))
	if ru != nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fmt.Printf("  generated in %s (CPU %s, peak RSS %s)\n", dur(took), dur(cpu), mib(uint64(ru.Maxrss)<<10))
	}
	return path, nil
}

// generateOnly is the child process of database.
func generateOnly(o options) error {
	_, _, err := gslbscale.CachedGeoDB(o.networks, o.locations, o.seed)
	return err
}
