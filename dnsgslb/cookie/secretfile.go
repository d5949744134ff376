package cookie

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// ParseSecrets reads a secret file: the current secret on its first line
// and optionally the previous one, still accepted, on the second, each as
// 32 hexadecimal digits. Blank lines and lines starting with # are skipped.
func ParseSecrets(data []byte) (current Secret, previous []Secret, err error) {
	var got []Secret
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s Secret
		b, err := hex.DecodeString(line)
		if err != nil || len(b) != len(s) {
			return Secret{}, nil, fmt.Errorf("line %d: want a secret of 32 hexadecimal digits (128 bits), e.g. from `openssl rand -hex 16`", i+1)
		}
		if len(got) == 2 {
			return Secret{}, nil, fmt.Errorf("line %d: a third secret; want the current secret and at most the previous one", i+1)
		}
		copy(s[:], b)
		got = append(got, s)
	}
	if len(got) == 0 {
		return Secret{}, nil, fmt.Errorf("no secret: want 32 hexadecimal digits on the first line, e.g. from `openssl rand -hex 16`")
	}
	return got[0], got[1:], nil
}

// ReadJar reads a secret file (see ParseSecrets) into a jar; its errors
// name a line, not the file.
func ReadJar(path string) (*Jar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	current, previous, err := ParseSecrets(data)
	if err != nil {
		return nil, err
	}
	return NewJar(current, previous...), nil
}

// RandomJar is a jar with a random secret of its own: its cookies are good
// only at this server, until it restarts.
func RandomJar() *Jar {
	var s Secret
	rand.Read(s[:])
	return NewJar(s)
}
