package serviceapi

import (
	"errors"
	"fmt"
	"strings"
)

// Connection string keys [doc iot-hub-dev-guide-sas "connection string";
// src azure-iot-common ConnectionString.parse].
const (
	keyHostName            = "HostName"
	keySharedAccessKeyName = "SharedAccessKeyName"
	keySharedAccessKey     = "SharedAccessKey"
)

// FormatConnectionString renders a service connection string.
func FormatConnectionString(host, policy, key string) string {
	return keyHostName + "=" + host + ";" + keySharedAccessKeyName + "=" + policy + ";" + keySharedAccessKey + "=" + key
}

// ConnectionStringParts are the fields of a service connection string.
type ConnectionStringParts struct {
	HostName, SharedAccessKeyName, SharedAccessKey string
}

// ParseConnectionString parses `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`
// as the SDKs do: segments split on ';', each at its first '=' (keys end in
// base64 '=' padding); unknown keys are ignored, the three are required.
func ParseConnectionString(s string) (ConnectionStringParts, error) {
	var p ConnectionStringParts
	seen := map[string]bool{}
	for _, seg := range strings.Split(strings.TrimSpace(s), ";") {
		if seg == "" {
			continue
		}
		k, v, ok := strings.Cut(seg, "=")
		if !ok {
			return ConnectionStringParts{}, fmt.Errorf("connection string segment %q has no '='", seg)
		}
		if seen[k] {
			return ConnectionStringParts{}, fmt.Errorf("connection string repeats %s", k)
		}
		seen[k] = true
		switch k {
		case keyHostName:
			p.HostName = v
		case keySharedAccessKeyName:
			p.SharedAccessKeyName = v
		case keySharedAccessKey:
			p.SharedAccessKey = v
		}
	}
	if p.HostName == "" || p.SharedAccessKeyName == "" || p.SharedAccessKey == "" {
		return ConnectionStringParts{}, errors.New("connection string needs HostName, SharedAccessKeyName and SharedAccessKey")
	}
	return p, nil
}
