package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pool is the stand-in PKI the tests share: three RSA-4096 keys once.
func sharedPool(t *testing.T) *PKIPool {
	t.Helper()
	return NewPKIPool(filepath.Join(t.TempDir(), "pki"))
}

// TestEveryCase replays every case and requires it to end in its outcome.
func TestEveryCase(t *testing.T) {
	pool := sharedPool(t)
	only := os.Getenv("MODEMSIM_CASE")
	for _, c := range Cases() {
		if only != "" && c.ID != only {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := Run(ctx, c, Options{PKI: pool})
			if err != nil {
				for _, s := range res.Steps {
					t.Logf("step %d %s: %v", s.Index+1, s.Step.Say, s.Output)
				}
			}
			require.NoError(t, err)
			require.True(t, res.Passed())
		})
	}
}
