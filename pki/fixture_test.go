package pki

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixtureNow is the simulation date of the shared fixture: after the hub
// migration to DigiCert G2, before Baltimore expired (2025-05-12).
var fixtureNow = time.Date(2024, time.June, 1, 12, 0, 0, 0, time.UTC)

// The shared PKI: generating the stand-ins (one RSA-4096 root, three RSA-4096
// issuing CAs) is slow, so the test binary does it once.
var (
	fixtureRoot string // parent temp dir made in TestMain
	fixtureOnce sync.Once
	fixturePKI  *PKI
	fixtureErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pki-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// fixtureDir is the state directory of the shared PKI.
func fixtureDir() string { return filepath.Join(fixtureRoot, "shared") }

// fixture returns the shared PKI with every root and server chain the tests
// use already generated.
func fixture(tb testing.TB) *PKI {
	tb.Helper()
	fixtureOnce.Do(func() {
		fixturePKI, fixtureErr = LoadOrCreate(fixtureDir(), WithClock(fixedClock(fixtureNow)))
		if fixtureErr != nil {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, len(RootNames()))
		for i, n := range RootNames() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = fixturePKI.ServerCertificate(n, testHosts)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && fixtureErr == nil {
				fixtureErr = err
			}
		}
	})
	require.NoError(tb, fixtureErr)
	return fixturePKI
}

// copyFixture copies the shared state directory, so a test can change files
// or the clock without disturbing others.
func copyFixture(t *testing.T) string {
	t.Helper()
	fixture(t)
	dst := t.TempDir()
	entries, err := os.ReadDir(fixtureDir())
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixtureDir(), e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
	return dst
}

// testHosts are the names the hub emulator serves (hub, DPS, loopback).
var testHosts = []string{
	"myhub.azure-devices.net",
	"*.azure-devices.net",
	"global.azure-devices-provisioning.net",
	"*.azure-devices-provisioning.net",
	"localhost",
	"127.0.0.1",
}
