package board

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Inventory is one board found in a state directory.
type Inventory struct {
	Name    string
	Dir     string
	Persona string // flashed last
	Description
}

// Inspect lists the boards a state directory holds, running or not, without
// opening them: their identities and stored credentials, and the pid that
// serves each one now.
func (c *Catalog) Inspect(stateDir string) ([]Inventory, error) {
	ents, err := os.ReadDir(stateDir)
	if err != nil {
		return nil, fmt.Errorf("boards in %s: %w", stateDir, err)
	}
	var out []Inventory
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(stateDir, e.Name())
		m, err := readMarker(dir)
		if err != nil || m.Kind == "" {
			continue // hub state, PKI, anything that is not a board
		}
		inv := Inventory{Name: e.Name(), Dir: dir, Persona: m.Persona}
		k, err := c.Kind(m.Kind)
		if err != nil {
			inv.Description = Description{Kind: m.Kind}
			out = append(out, inv)
			continue
		}
		if inv.Description, err = k.Inspect(dir); err != nil {
			return nil, fmt.Errorf("board %s: %w", e.Name(), err)
		}
		out = append(out, inv)
	}
	slices.SortFunc(out, func(a, b Inventory) int { return compareNames(a.Name, b.Name) })
	return out, nil
}

// compareNames orders names with numbers by value: fleet-2 before fleet-10.
func compareNames(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := trimZeros(a[:da]), trimZeros(b[:db])
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
