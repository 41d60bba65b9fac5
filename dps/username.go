package dps

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUsername marks a CONNECT user name that is not `{idScope}/registrations/{regId}/api-version=…`.
var ErrUsername = errors.New("dps: malformed user name")

// identity is what a DPS CONNECT user name names.
type identity struct {
	IDScope        string
	RegistrationID string
	APIVersion     string // "" when absent
}

// parseUsername parses `{idScope}/registrations/{registrationId}/api-version=2019-03-31`
// (§2.1 [doc P-MQTT]); real clients append `&ClientVersion=…` [src S-PROV, S-CPROV]
// and some may write `?api-version=` like the hub [inf]: both are accepted.
func parseUsername(u string) (identity, error) {
	scope, rest, ok := strings.Cut(u, "/registrations/")
	if !ok || scope == "" {
		return identity{}, fmt.Errorf("%w: %q lacks {idScope}/registrations/", ErrUsername, u)
	}
	regID, params, _ := strings.Cut(rest, "/")
	regID = strings.TrimSuffix(regID, "?") // tolerate `{regId}?api-version=`
	if i := strings.IndexByte(regID, '?'); i >= 0 {
		regID, params = regID[:i], regID[i+1:]
	}
	if regID == "" {
		return identity{}, fmt.Errorf("%w: %q has an empty registration ID", ErrUsername, u)
	}
	id := identity{IDScope: scope, RegistrationID: regID}
	params = strings.TrimPrefix(params, "?")
	for _, p := range strings.Split(params, "&") {
		if v, ok := strings.CutPrefix(p, "api-version="); ok {
			id.APIVersion = v
		}
	}
	return id, nil
}
