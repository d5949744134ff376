package lab

import (
	"bufio"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a process the test runs in the background, its output read line
// by line; cleanup stops it by PID.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process is reaped
}

// startProc starts args and hands every line it writes, stdout or stderr,
// to onLine (from two goroutines).
func startProc(t *testing.T, name string, onLine func(line string), args ...string) *proc {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Go(func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				onLine(sc.Text())
			}
		})
	}
	go func() {
		readers.Wait()
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	pid := p.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(5 * time.Second):
	}
	t.Errorf("%s (PID %d) ignored SIGTERM for 5s; killing it", p.name, pid)
	syscall.Kill(pid, syscall.SIGKILL)
	<-p.done
}
