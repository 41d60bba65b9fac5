package modemkey

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Expensive fixtures, made once per test binary.
var (
	fixtureOnce sync.Once
	fixtureID   *Identity
	fixtureKey  *ecdsa.PrivateKey
	fixtureRSA  *rsa.PrivateKey
	fixtureErr  error
)

func fixtures(t testing.TB) (*Identity, *ecdsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	fixtureOnce.Do(func() {
		if fixtureID, fixtureErr = NewIdentity(rand.Reader); fixtureErr != nil {
			return
		}
		if fixtureKey, fixtureErr = GenerateKey(rand.Reader); fixtureErr != nil {
			return
		}
		fixtureRSA, fixtureErr = rsa.GenerateKey(rand.Reader, 2048)
	})
	require.NoError(t, fixtureErr)
	return fixtureID, fixtureKey, fixtureRSA
}

func mustUUID(t testing.TB, s string) [16]byte {
	t.Helper()
	u, err := ParseUUID(s)
	require.NoError(t, err)
	return u
}

var bigOne = big.NewInt(1)

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
