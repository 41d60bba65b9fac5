package pki

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMapTrustAnchors(t *testing.T) {
	p := fixture(t)
	realG2 := loadRealRoot(t, DigiCertGlobalRootG2)
	realBalt := loadRealRoot(t, BaltimoreCyberTrustRoot)
	own, err := NewCA(nil, "My Own Root", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	standInG2, err := p.Root(DigiCertGlobalRootG2)
	require.NoError(t, err)
	standInBalt, err := p.Root(BaltimoreCyberTrustRoot)
	require.NoError(t, err)

	tests := []struct {
		name      string
		anchors   []*x509.Certificate
		want      []*x509.Certificate
		wantSubs  []RootName
		verifiesG bool // the G2-era hub chain verifies with the mapped anchors
	}{
		{"real G2 PEM (M1 fix, D3)", []*x509.Certificate{realG2}, []*x509.Certificate{standInG2.Cert}, []RootName{DigiCertGlobalRootG2}, true},
		{"real Baltimore only (W4, M1)", []*x509.Certificate{realBalt}, []*x509.Certificate{standInBalt.Cert}, []RootName{BaltimoreCyberTrustRoot}, false},
		{"both (M2)", []*x509.Certificate{realBalt, realG2}, []*x509.Certificate{standInBalt.Cert, standInG2.Cert},
			[]RootName{BaltimoreCyberTrustRoot, DigiCertGlobalRootG2}, true},
		{"unknown root stays unknown", []*x509.Certificate{own.Cert}, []*x509.Certificate{own.Cert}, nil, false},
		{"stand-in kept as is", []*x509.Certificate{standInG2.Cert}, []*x509.Certificate{standInG2.Cert}, nil, true},
		{"none", nil, []*x509.Certificate{}, nil, false},
	}
	sc, err := p.ServerCertificate(DigiCertGlobalRootG2, testHosts)
	require.NoError(t, err)
	chain := parseChain(t, sc)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, subs, err := p.MapTrustAnchors(tt.anchors)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			var names []RootName
			for _, s := range subs {
				names = append(names, s.Name)
				assert.Equal(t, string(s.Name), s.Real.Subject.CommonName)
				assert.Equal(t, s.Real.RawSubject, s.StandIn.RawSubject)
			}
			assert.Equal(t, tt.wantSubs, names)
			pool := x509.NewCertPool()
			for _, c := range got {
				pool.AddCert(c)
			}
			assert.Equal(t, tt.verifiesG, verifyServer(chain, pool, "myhub.azure-devices.net", fixtureNow) == nil)
		})
	}
}

func TestRootAt(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		svc  Service
		at   time.Time
		want RootName
	}{
		{"hub 2022", ServiceHub, day(2022, time.June, 1), BaltimoreCyberTrustRoot},
		{"hub inside its window", ServiceHub, day(2023, time.June, 1), BaltimoreCyberTrustRoot},
		{"hub after its window", ServiceHub, day(2023, time.October, 16), DigiCertGlobalRootG2},
		// M2: DPS still on Baltimore while the hub already serves G2.
		{"DPS January 2024", ServiceDPS, day(2024, time.January, 20), BaltimoreCyberTrustRoot},
		{"DPS after 15 Feb 2024", ServiceDPS, day(2024, time.February, 16), DigiCertGlobalRootG2},
		{"DPS 2026", ServiceDPS, day(2026, time.November, 21), DigiCertGlobalRootG2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, RootAt(tt.svc, tt.at))
		})
	}
	assert.Equal(t, "IoT Hub", ServiceHub.String())
	assert.Equal(t, "DPS", ServiceDPS.String())
}

// StandIns (a remote hub's published roots) map exactly like the PKI.
func TestStandInsMapTrustAnchors(t *testing.T) {
	realG2 := loadRealRoot(t, DigiCertGlobalRootG2)
	realBalt := loadRealRoot(t, BaltimoreCyberTrustRoot)
	standIn, err := NewCA(nil, string(DigiCertGlobalRootG2), nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	own, err := NewCA(nil, "My Own Root", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	s := StandIns{DigiCertGlobalRootG2: standIn.Cert}

	got, subs, err := s.MapTrustAnchors([]*x509.Certificate{realG2, own.Cert})
	require.NoError(t, err)
	assert.Equal(t, []*x509.Certificate{standIn.Cert, own.Cert}, got, "the real root is replaced, an unknown one kept")
	require.Len(t, subs, 1)
	assert.Equal(t, DigiCertGlobalRootG2, subs[0].Name)
	assert.Same(t, realG2, subs[0].Real)

	_, _, err = s.MapTrustAnchors([]*x509.Certificate{realBalt})
	assert.ErrorContains(t, err, "no stand-in", "a real root without a published stand-in is an error, not a pass")
}
