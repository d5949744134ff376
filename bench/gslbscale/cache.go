package gslbscale

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CacheDirEnv names the environment variable that overrides where
// CachedGeoDB keeps databases.
const CacheDirEnv = "ANYCTL_BENCH_CACHE"

// generatorVersion is part of every cached file name: bump it when GeoDB's
// output changes, so that stale files are not reused.
const generatorVersion = "v1"

// CacheDir is where generated databases are kept: $ANYCTL_BENCH_CACHE if
// set, else anyctl-bench in the user's cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux).
func CacheDir() (string, error) {
	if d := os.Getenv(CacheDirEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("benchmark cache directory: %w (set %s)", err, CacheDirEnv)
	}
	return filepath.Join(d, "anyctl-bench"), nil
}

// GeoDBPath is the file in CacheDir that holds GeoDB's database for the
// parameters.
func GeoDBPath(networks, locations int, seed uint64) (string, error) {
	d, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, fmt.Sprintf("city-%s-n%d-l%d-s%d.mmdb", generatorVersion, networks, locations, seed)), nil
}

// CachedGeoDB returns the path of GeoDB's database for the parameters,
// writing it first when the cache does not hold it yet; generated says
// whether it did.
func CachedGeoDB(networks, locations int, seed uint64) (path string, generated bool, err error) {
	path, err = GeoDBPath(networks, locations, seed)
	if err != nil {
		return "", false, err
	}
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("cached GeoIP database: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", false, fmt.Errorf("benchmark cache directory: %w", err)
	}
	if err := GeoDB(path, networks, locations, seed); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// CopyFile copies the file at from to a new file at to: a state file, or
// a database given another modification time, as a restart after the
// GeoIP file changed sees it.
func CopyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
