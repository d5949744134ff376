package cli

import (
	"time"

	"github.com/anyctl/anyctl/agent"
)

// durationFlag binds a pflag to an agent.Duration.
type durationFlag struct{ d *agent.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return time.Duration(*f.d).String()
}

func (f durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = agent.Duration(v)
	return nil
}

func (f durationFlag) Type() string { return "duration" }
