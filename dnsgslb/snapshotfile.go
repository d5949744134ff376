package dnsgslb

import v1 "github.com/anyctl/anyctl/proto/anycast/v1"

// LoadSnapshot reads the snapshot a server persisted in its state
// directory; nil and no error when there is none. `anyctl explain` uses it
// to show what a server answers from while it cannot reach the controller.
func LoadSnapshot(stateDir string) (*v1.GslbSnapshot, error) { return loadSnapshot(stateDir) }
