package dps

import "strings"

// IsUsername reports whether a CONNECT user name is a DPS one
// (`{idScope}/registrations/{registrationId}/…`, §2.1 [doc P-MQTT]) rather
// than a hub one (`{hub host}/{deviceId}/…`): an ID scope is one DNS-free
// token ("0ne00000000"), a hub host name has dots [inf].
func IsUsername(u string) bool {
	id, err := parseUsername(u)
	return err == nil && !strings.ContainsAny(id.IDScope, "./")
}
