package serviceapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/modemsim/modemsim/atomicfile"
)

// defaultDPSPolicies are the policies a new DPS instance has
// [doc iot-dps how-to-control-access: provisioningserviceowner has all rights].
var defaultDPSPolicies = []Policy{
	{Name: DPSOwnerPolicy, Rights: []string{RightServiceConfig, RightEnrollmentRead, RightEnrollmentWrite,
		RightRegistrationStatusRead, RightRegistrationWrite}},
}

// PolicyStore is DPS's persisted set of shared access policies.
type PolicyStore struct {
	path string
	mu   sync.Mutex
	pols map[string]Policy
}

// OpenPolicyStore loads the policies kept at path, creating the defaults
// with fresh keys the first time.
func OpenPolicyStore(path string) (*PolicyStore, error) {
	s := &PolicyStore{path: path, pols: map[string]Policy{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		for _, p := range defaultDPSPolicies {
			p.PrimaryKey, p.SecondaryKey = newKey(), newKey()
			s.pols[p.Name] = p
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("serviceapi: policy dir: %w", err)
		}
		if err := s.save(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("serviceapi: read policies: %w", err)
	default:
		var list []Policy
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("serviceapi: parse %s: %w", path, err)
		}
		for _, p := range list {
			s.pols[p.Name] = p
		}
	}
	return s, nil
}

func (s *PolicyStore) save() error {
	b, err := json.MarshalIndent(s.sorted(), "", "  ")
	if err != nil {
		return fmt.Errorf("serviceapi: encode policies: %w", err)
	}
	if err := atomicfile.Write(s.path, b); err != nil {
		return fmt.Errorf("serviceapi: write policies: %w", err)
	}
	return nil
}

func (s *PolicyStore) sorted() []Policy {
	out := make([]Policy, 0, len(s.pols))
	for _, p := range s.pols {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Policies lists the policies by name.
func (s *PolicyStore) Policies() []Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted()
}

// Policy returns one policy.
func (s *PolicyStore) Policy(name string) (Policy, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pols[name]
	return p, ok
}

// newKey returns a random 32-byte base64 key, the size the portal generates.
func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return base64.StdEncoding.EncodeToString(b)
}
