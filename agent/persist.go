package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// configFile is the name of the last accepted PoP config in the state dir.
const configFile = "popconfig.pb"

// saveConfig writes the config atomically: a temp file in the same
// directory, synced, then renamed over the old one.
func saveConfig(dir string, cfg *v1.PopConfig) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encoding PoP config: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, configFile), b)
}

// loadConfig reads the persisted config; (nil, nil) when there is none.
func loadConfig(dir string) (*v1.PopConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading persisted config: %w", err)
	}
	cfg := &v1.PopConfig{}
	if err := proto.Unmarshal(b, cfg); err != nil {
		return nil, fmt.Errorf("persisted config %q is corrupt: %w", filepath.Join(dir, configFile), err)
	}
	return cfg, nil
}

func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %q: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
