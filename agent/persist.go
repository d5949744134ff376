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

// configFile is the name of the last accepted PoP config in the state dir,
// framed (atomicfile.WriteFramed) with configMagic, its length and a
// checksum.
const configFile = "popconfig.pb"

// configMagic starts a framed configFile.
const configMagic = "APOP"

// saveConfig writes the config atomically: a crash leaves the old one or
// the new one.
func saveConfig(dir string, cfg *v1.PopConfig) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encoding PoP config: %w", err)
	}
	return atomicfile.WriteFramed(filepath.Join(dir, configFile), configMagic, b)
}

// loadConfig reads the persisted config; (nil, nil) when there is none.
// A file that is empty, truncated, changed or from a version before the
// framing is refused: its error names the file and wraps
// atomicfile.ErrCorrupt.
func loadConfig(dir string) (*v1.PopConfig, error) {
	path := filepath.Join(dir, configFile)
	b, err := atomicfile.ReadFramed(path, configMagic)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("persisted config: %w", err)
	}
	cfg := &v1.PopConfig{}
	if err := proto.Unmarshal(b, cfg); err != nil {
		return nil, fmt.Errorf("persisted config %q: %w: %w", path, atomicfile.ErrCorrupt, err)
	}
	return cfg, nil
}
