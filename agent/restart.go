package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/anyctl/anyctl/atomicfile"
)

// restartFile records, when the agent exits for a restart, which services
// were healthy, so that the next start (within the graceful restart time)
// announces them again before their checks have run: the peers kept the
// routes, and would drop them at the End-of-RIB if they were missing.
const restartFile = "restart.json"

// restartState is the content of restartFile.
type restartState struct {
	At      time.Time `json:"at"`
	Healthy []string  `json:"healthy"`
}

// saveRestart records the services healthy now.
func saveRestart(dir string, healthy map[string]bool) error {
	st := restartState{At: time.Now()}
	for name, up := range healthy {
		if up {
			st.Healthy = append(st.Healthy, name)
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding restart state: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, restartFile), b)
}

// takeRestart reads and removes the restart record. It returns the services
// that were healthy, or nil when there is no record or it is older than
// within: the peers have dropped the routes by then, and the checks decide
// afresh.
func takeRestart(dir string, within time.Duration) (map[string]bool, error) {
	path := filepath.Join(dir, restartFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading restart state: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("removing restart state: %w", err)
	}
	var st restartState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("restart state %q is corrupt: %w", path, err)
	}
	if age := time.Since(st.At); age < 0 || age > within {
		return nil, nil
	}
	out := map[string]bool{}
	for _, name := range st.Healthy {
		out[name] = true
	}
	return out, nil
}
