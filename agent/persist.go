package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/anyctl/anyctl/atomicfile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// configFile is the name of the last accepted PoP config in the state dir.
const configFile = "popconfig.pb"

// saveConfig writes the config atomically: a crash leaves the old one or
// the new one.
func saveConfig(dir string, cfg *v1.PopConfig) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encoding PoP config: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, configFile), b)
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
