package controller_test

import (
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller"
)

// TestConsolePlainOnLoopbackOnly refuses a plain-text console anywhere
// but loopback, naming the flag and the value.
func TestConsolePlainOnLoopbackOnly(t *testing.T) {
	_, err := controller.New(controller.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), ConsoleListen: "0.0.0.0:7480"})
	want := `--console-listen "0.0.0.0:7480": plain HTTP is served on loopback only`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("controller.New with a plain console on 0.0.0.0: %v, want %q", err, want)
	}
	if _, err := controller.New(controller.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), ConsoleListen: "127.0.0.1:0"}); err != nil {
		t.Fatalf("a plain console on loopback: %v", err)
	}
}
